"""Folding the count changes that the database's triggers append (ImageCountChange, FinalAnnotationCountChange:
see their docstrings) back into one row per key, so reading a count sums a handful of rows however long the
installation has run. Run by `counts_compact_task` every DEFECTLAB_COUNTS_COMPACT_SECONDS."""

from dataclasses import dataclass

from django.db import connection, transaction

from annotation.models import DefectClass, FinalAnnotationCountChange, ImageCountChange, Project


@dataclass(frozen=True)
class CountsCompacted:
    image_rows_before: int
    image_rows_after: int
    final_annotation_rows_before: int
    final_annotation_rows_after: int


def _fold(*, table: str, keys: tuple[str, ...], value: str, owner_table: str, owner_key: str) -> tuple[int, int]:
    """Replace `table`'s rows by one per key with their sum, dropping sums of 0 and the rows of owners that no
    longer exist (a deleted project's or class's). (rows before, rows after)."""
    columns = ", ".join(keys)
    # S608 waived in this function: table and column names come from the models, not from input.
    owner_exists = f"EXISTS (SELECT 1 FROM {owner_table} owner WHERE owner.id = folded.{owner_key})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        before = cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            # One statement: the rows it deletes are exactly those it sums, so changes appended meanwhile by other
            # transactions (invisible to it) stay and still count, and two compactions at once each fold only
            # the rows they deleted.
            cursor.execute(
                f"""
                WITH folded AS (DELETE FROM {table} RETURNING {columns}, {value})
                INSERT INTO {table} ({columns}, {value})
                SELECT {columns}, sum({value}) FROM folded WHERE {owner_exists}
                GROUP BY {columns} HAVING sum({value}) <> 0
                """  # noqa: S608
            )
            return before, cursor.rowcount
        # SQLite has no DELETE inside WITH. It has one writer at a time, and a write after a read fails when
        # another writer committed in between, so reading, deleting and writing back in turn loses nothing.
        cursor.execute(
            f"SELECT {columns}, sum({value}) FROM {table} folded WHERE {owner_exists} "  # noqa: S608
            f"GROUP BY {columns} HAVING sum({value}) <> 0"
        )
        sums = cursor.fetchall()
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        placeholders = ", ".join(["%s"] * (len(keys) + 1))
        cursor.executemany(f"INSERT INTO {table} ({columns}, {value}) VALUES ({placeholders})", sums)  # noqa: S608
        return before, len(sums)


@transaction.atomic
def counts_compact() -> CountsCompacted:
    """Fold both tables of count changes (see the module docstring). Safe to run at any time, and twice at once."""
    quote = connection.ops.quote_name
    image_before, image_after = _fold(
        table=quote(ImageCountChange._meta.db_table),
        keys=("project_id", "status", "is_defect_free"),
        value="images",
        owner_table=quote(Project._meta.db_table),
        owner_key="project_id",
    )
    final_before, final_after = _fold(
        table=quote(FinalAnnotationCountChange._meta.db_table),
        keys=("defect_class_id",),
        value="annotations",
        owner_table=quote(DefectClass._meta.db_table),
        owner_key="defect_class_id",
    )
    return CountsCompacted(
        image_rows_before=image_before,
        image_rows_after=image_after,
        final_annotation_rows_before=final_before,
        final_annotation_rows_after=final_after,
    )
