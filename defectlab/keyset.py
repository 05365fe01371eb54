"""Keeping one scope's keyset list (a project's images, its audit entries) on its (scope, id) index.

`WHERE project_id = P ORDER BY id LIMIT 101` can be answered two ways: the (project_id, id) index from P's first
row, or the primary key in id order, skipping other projects' rows. PostgreSQL costs the second as if P's rows
were spread evenly through the table; it cannot know that a project's images sit together. So when P holds a
fair share of the table it walks the primary key, and for a project whose images all come after another
project's it reads all of those first: 0.27 s for 100,000 rows ahead on the development machine, seconds at a
million (annotation/tests/test_list_plans.py shows the plans). Adding an equality on P does not help: a column
equal to a constant drops out of the ordering, so both paths still qualify.

What does: select the scope with a range that holds one value (`project_id >= P AND project_id <= P`, the same
rows) and order by (scope, id). A range leaves the scope in the ordering, and only an index that starts with the
scope returns rows in that order, so every page is one range read of that index, from the cursor on, whatever
other scopes hold; the primary key would need a sort of all P's rows and is never cheaper.
`scope_filter` makes the range, `scope_ordering` the order; ScopedIdCursorPagination (defectlab/api/pagination.py)
pages that way.
"""


def scope_filter(field: str, value: object) -> dict[str, object]:
    """Filter keywords selecting `field` = `value` as a one-value range (see the module docstring)."""
    return {f"{field}__gte": value, f"{field}__lte": value}


def scope_ordering(scope: tuple[str, ...], ordering: tuple[str, ...]) -> tuple[str, ...]:
    """`ordering` (e.g. ("-id",)) with the scope's fields first, in the direction of its first field."""
    sign = "-" if ordering[0].startswith("-") else ""
    return (*(sign + field for field in scope), *ordering)
