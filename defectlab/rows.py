"""One row in or out with SQL built once per model and field set, for the few statements every autosave runs.

Django compiles a statement's SQL on every call; on the autosave path (bench/api_save.py: 20 inspectors saving
as fast as they can on 2 cores) that compilation was about a third of the CPU a save costs. These helpers keep
the ORM's field semantics (pre_save for auto_now and auto_now_add, get_db_prep_save for JSON and dates, the
backend's converters on read) and skip only the repeated compilation. No model signals are sent: nothing in
DefectLab listens to them (side effects are explicit calls, HOUSE_STYLE).
"""

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Field, Model


def _quote(name: str | None) -> str:
    if name is None:
        raise ValueError("a concrete column has a name")
    return connection.ops.quote_name(name)


def _concrete(model: type[Model], name: str) -> Field:
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise ValueError(f"{model.__name__}.{name} is a relation's reverse side, not a column")
    return field


@functools.cache
def _update_statement(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[str, tuple[Field, ...]]:
    fields = tuple(_concrete(model, name) for name in names)
    assignments = ", ".join(f"{_quote(field.column)} = %s" for field in fields)
    table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)
    return f"UPDATE {table} SET {assignments} WHERE {pk} = %s", fields  # noqa: S608 (identifiers from _meta)


def row_update_statement(instance: Model, names: Iterable[str]) -> tuple[str, list]:
    """`UPDATE ... SET ... WHERE pk = %s` for these fields of `instance`, and its parameters (auto_now fields get
    the current time, as save() would), to run or to embed in a larger statement."""
    sql, fields = _update_statement(type(instance), tuple(names), connection.vendor)
    params = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in fields]
    return sql, [*params, instance.pk]


def row_update(instance: Model, names: Iterable[str]) -> int:
    """Write these fields of `instance` to its row; the number of rows written (0: the row is gone)."""
    sql, params = row_update_statement(instance, names)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@functools.cache
def _insert_statement(model: type[Model], vendor: str) -> tuple[str, tuple[Field, ...], bool]:
    fields = tuple(field for field in model._meta.local_concrete_fields if not field.primary_key)
    columns = ", ".join(_quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    returning = connection.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {_quote(model._meta.pk.column)}"
    return sql, fields, returning


def row_insert(instance: Model) -> Model:
    """Insert a new instance (its primary key left to the database) and set its primary key."""
    if instance.pk is not None:
        raise ValueError("row_insert inserts new rows only; this one has a primary key")
    sql, fields, returning = _insert_statement(type(instance), connection.vendor)
    params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        instance.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    instance._state.adding, instance._state.db = False, connection.alias
    return instance


@dataclass(frozen=True)
class RowLayout:
    """How one model's columns are selected (`columns`, with a table alias) and turned back into an instance."""

    model: type[Model]
    columns: str
    attnames: frozenset
    converters: tuple

    def instance(self, values: Iterator) -> Model | None:
        """An instance from the next values of a row (as many as this layout selects); None when its primary key
        is NULL, as for the missing side of a LEFT JOIN."""
        converted = []
        for field, field_converters in self.converters:
            value = next(values)
            for converter in field_converters:
                value = converter(value, field, connection)
            converted.append(value)
        return None if converted[0] is None else self.model.from_db(connection.alias, self.attnames, converted)


def row_layout(model: type[Model], alias: str, skipped: frozenset = frozenset()) -> RowLayout:
    """The layout of `model`'s concrete fields but those whose attname is in `skipped` (the primary key first)."""
    return _row_layout(model, alias, skipped, connection.vendor)


@functools.cache
def _row_layout(model: type[Model], alias: str, skipped: frozenset, vendor: str) -> RowLayout:
    fields = [field for field in model._meta.concrete_fields if field.attname not in skipped]
    converters = tuple(
        (field, connection.ops.get_db_converters(field.get_col(alias)) + field.get_db_converters(connection))
        for field in fields
    )
    columns = ", ".join(f"{alias}.{_quote(field.column)}" for field in fields)
    return RowLayout(model, columns, frozenset(field.attname for field in fields), converters)


def row_select(model: type[Model], *, alias: str, tail: str, params: Sequence) -> Model | None:
    """The first row of `SELECT <all of model's columns, table alias `alias`> <tail>` as an instance, or None.
    `tail` is the FROM ... WHERE ... part; values go in `params`, never into `tail`."""
    layout = row_layout(model, alias)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {layout.columns} {tail}", params)  # noqa: S608 (the caller's tail binds every value)
        row = cursor.fetchone()
    return None if row is None else layout.instance(iter(row))
