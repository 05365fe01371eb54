"""Checks every app applies to values from outside (API bodies, page forms), before they reach a column.

- Integers: the range of the column they are stored in, read from the model field's type (an IntegerField is
  32-bit in PostgreSQL: 2**31 there is a DataError, so a 500, unless it is refused first).
- Names (of projects, defect classes, severity levels, dataset versions): one line of text. No control
  characters (NUL is refused by PostgreSQL; the others garble logs and the text file formats) and no line or
  paragraph separators (a class name with a newline adds lines to an export's label map).
"""

import unicodedata

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

from defectlab.errors import ValidationFailed

# Unicode categories refused in names: control characters (Cc: NUL, newline, tab, ESC, ...), line and paragraph
# separators (Zl: U+2028, Zp: U+2029) and surrogates (Cs: not text, and not encodable as UTF-8).
NAME_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})


def integer_range(model: type[models.Model], field_name: str) -> tuple[int, int]:
    """(smallest, largest) value of an integer column, from the field's type: the ranges Django knows for
    PostgreSQL and the SQL standard (SQLite stores 64 bits in any of them, so the same limits hold there too)."""
    field = model._meta.get_field(field_name)
    column = getattr(field, "target_field", field)  # a foreign key holds its target's id
    return BaseDatabaseOperations.integer_field_ranges[column.get_internal_type()]


def integer_check(value: int, *, model: type[models.Model], field_name: str, label: str | None = None) -> int:
    """`value` if its column can hold it; else ValidationFailed naming the range."""
    smallest, largest = integer_range(model, field_name)
    if isinstance(value, bool) or not isinstance(value, int) or not smallest <= value <= largest:
        raise ValidationFailed(f"{label or field_name} must be a whole number from {smallest} to {largest}.")
    return value


def name_refusal(text: str) -> str | None:
    """Why `text` cannot be a name (one line, no control characters), or None when it can."""
    for character in text:
        if unicodedata.category(character) in NAME_REFUSED_CATEGORIES:
            return f"contains the character U+{ord(character):04X}; a name is one line of printable text"
    return None


def name_check(text: str, *, label: str) -> str:
    """`text` if it can be a name; else ValidationFailed saying why."""
    refusal = name_refusal(text)
    if refusal is not None:
        raise ValidationFailed(f"The {label} {refusal}.")
    return text
