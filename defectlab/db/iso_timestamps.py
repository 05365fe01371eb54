"""Timestamps written as DRF writes them, by PostgreSQL: a list of thousands of rows otherwise parses each timestamp
into a datetime (psycopg) only to format it again (DRF's DateTimeField), two of them per annotation, about a
quarter of the editor's load of an image at the annotation budget (bench/geometry_abuse.py)."""

from django.db.models import Expression, Func, TextField
from django.utils import timezone

# DRF's ISO 8601 for an aware value in UTC: datetime.isoformat() with "+00:00" as "Z", which leaves out the
# fraction when the microseconds are 0.
_UTC_ISO_TEMPLATE = (
    "(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
    "CASE WHEN mod(extract(microseconds FROM %(expressions)s)::bigint, 1000000) = 0 THEN '' "
    "ELSE to_char(%(expressions)s AT TIME ZONE 'UTC', '.US') END || 'Z')"
)


class UtcIsoText(Func):
    """A timestamp column as the text DRF's DateTimeField renders it in UTC (PostgreSQL only)."""

    template = _UTC_ISO_TEMPLATE
    output_field = TextField()


def iso_text_in_sql(field: str, vendor: str) -> Expression | None:
    """`field` as DRF's text in the current time zone, computed by the database; None where it cannot be (not
    PostgreSQL, or a zone other than UTC): then the datetime is read and DRF formats it."""
    if vendor != "postgresql" or timezone.get_current_timezone_name() != "UTC":
        return None
    return UtcIsoText(field)
