"""Reading JSON that comes from outside (request bodies, JSON typed into form fields, uploaded COCO files).

Python's json recurses once per nesting level, so a body of 100,000 `[` is a RecursionError (a 500), and a body
just under the interpreter's limit parses but breaks whatever recurses over it next (serializers, json.dumps).
`json_input_load` refuses both with ValueError, as it refuses any other malformed JSON. NaN and Infinity, which
Python accepts and JSON does not, are refused too, and so are lone surrogates ("\\ud800"): valid JSON escapes,
but not text, so neither PostgreSQL nor a UTF-8 answer that echoes them can hold them.
"""

import json
import re

import orjson

JSON_MAX_DEPTH = 32
"Deepest nesting of arrays and objects accepted; a geometry (polygons, holes, rings, points) needs 6."

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
# Every byte but the four brackets, to delete with bytes.translate (a C loop; a regex substitution over a 440 KB
# geometry took twenty times as long). UTF-8 continuation bytes are >= 0x80, so no character loses a bracket.
_NOT_BRACKET_BYTES = bytes(byte for byte in range(256) if chr(byte) not in "[]{}")
_INNERMOST = re.compile(r"\[\]|\{\}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
# orjson reads integers past 64 bits as floats; json keeps them exact. 19 digits in a row may be one of them.
# Digits as 0 and everything else as ".", so that 19 digits in a row are a substring search (a regex took 5-25 ms
# on a 440 KB geometry, this well under 1 ms).
_DIGITS_AS_ZERO = bytes(ord("0") if chr(byte).isdigit() and byte < 128 else ord(".") for byte in range(256))
_LONG_DIGITS = b"0" * 19


def _constant_refused(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def json_depth_exceeds(text: str, max_depth: int) -> bool:
    """Whether well-formed JSON `text` nests arrays and objects deeper than `max_depth`.

    Done on the text (strings removed, everything but brackets deleted, then the innermost pairs of brackets, one
    level a pass), a fraction of the time of parsing it; walking the parsed value in Python takes as long as
    parsing."""
    unquoted = _STRING.sub("", text).encode("utf-8", "surrogatepass")
    brackets = unquoted.translate(None, _NOT_BRACKET_BYTES).decode("ascii")
    for _ in range(max_depth):
        if not brackets:
            return False
        brackets = _INNERMOST.sub("", brackets)
    return bool(brackets)


_UNREAD = object()


def _fast_load(text: str) -> object:
    """orjson's value of `text` (5-10x faster than json on a large geometry), or _UNREAD where it and json may
    differ: text orjson refuses (json then gives the error, or the value, as it always has) and long integers.
    Whatever orjson accepts json reads the same, minus NaN, Infinity and lone surrogates, which orjson refuses
    as this module does."""
    if _LONG_DIGITS in text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ZERO):
        return _UNREAD
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _UNREAD


def json_input_load(data: str | bytes, *, max_depth: int = JSON_MAX_DEPTH) -> object:
    """The value of JSON text from outside. Raises ValueError when it is not JSON, holds NaN or Infinity, or nests
    deeper than `max_depth`."""
    # As json.loads reads bytes: UTF-8 (with or without a BOM), 16 or 32. UnicodeDecodeError is a ValueError.
    text = data.decode(json.detect_encoding(data)) if isinstance(data, bytes) else data
    value = _fast_load(text)
    if value is not _UNREAD:
        if json_depth_exceeds(text, max_depth):
            raise ValueError(f"nested more than {max_depth} levels deep")
        return value
    try:
        value = json.loads(text, parse_constant=_constant_refused)
    except RecursionError:
        raise ValueError(f"nested more than {max_depth} levels deep") from None
    if json_depth_exceeds(text, max_depth):
        raise ValueError(f"nested more than {max_depth} levels deep")
    if _SURROGATE_ESCAPE.search(text):  # rare: a pair of them (an emoji written as escapes) is one character
        try:
            json.dumps(value, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff), which is not text") from None
    return value
