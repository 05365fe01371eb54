from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from rest_framework.pagination import CursorPagination

from defectlab.keyset import scope_ordering

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class IdCursorPagination(CursorPagination):
    """Keyset pagination on id: stable under inserts, constant cost at any depth."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class _ScopeFirst:
    """A queryset as CursorPagination uses it (order_by, filter, one slice), with the scope's fields put before
    every ordering asked for."""

    def __init__(self, queryset: QuerySet[Any, Any], scope: tuple[str, ...]) -> None:
        self.queryset, self.scope = queryset, scope

    def order_by(self, *ordering: str) -> "_ScopeFirst":
        return _ScopeFirst(self.queryset.order_by(*scope_ordering(self.scope, ordering)), self.scope)

    def filter(self, *args: Any, **kwargs: Any) -> "_ScopeFirst":
        return _ScopeFirst(self.queryset.filter(*args, **kwargs), self.scope)

    def __getitem__(self, key: slice) -> Any:
        return self.queryset[key]


class ScopedIdCursorPagination(IdCursorPagination):
    """IdCursorPagination over one scope's rows (a project's), ordered by (scope, id) so that every page reads
    the (scope, id) index from the cursor on (defectlab/keyset.py). The queryset selects its scope with
    keyset.scope_filter; the cursors are the same as IdCursorPagination's."""

    scope: tuple[str, ...] = ("project_id",)

    def paginate_queryset(
        self, queryset: QuerySet[Any, Any] | Sequence[Any], request: "Request", view: "APIView | None" = None
    ) -> list[Any] | None:
        return super().paginate_queryset(_ScopeFirst(queryset, self.scope), request, view)  # type: ignore[arg-type]  # quacks like a QuerySet
