"""Writing JSON fast: API answers and JSON columns are written by orjson, not the standard library.

A worst-case annotation save (bench/geometry_abuse.py: 10,000 vertices at full float precision) wrote its
geometry four times with `json.dumps` (the row, the audit entry's before and after, the answer), about 25 ms
each, most of it in formatting floats; orjson writes the same values about ten times faster. What it cannot
write the standard library still does (integers beyond 64 bits; `default` for the types a caller teaches it),
so nothing that was written before is refused now. The text may differ in spelling only (`1e-5` for `1e-05`):
the same JSON values, and nothing hashes these bytes (manifests use datasets.manifest.canonical_json).
"""

import json
from collections.abc import Callable
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS  # {1: ...} as json.dumps writes it: {"1": ...}


def json_bytes(value: Any, *, default: Callable[[Any], Any] | None = None, passthrough_datetime: bool = False) -> bytes:
    """`value` as compact UTF-8 JSON. `default` turns a value orjson does not know into one it does (as
    json.dumps's `default`); `passthrough_datetime` sends dates and times there too instead of orjson's RFC 3339."""
    options = _OPTIONS | (orjson.OPT_PASSTHROUGH_DATETIME if passthrough_datetime else 0)
    try:
        return orjson.dumps(value, default=default, option=options)
    except orjson.JSONEncodeError:  # e.g. an integer past 64 bits, which the standard library writes
        return json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":")).encode()
