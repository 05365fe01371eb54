"""json_input_load reads a body with orjson where it can, and must give exactly what Python's json gives, or the
same refusal, whichever parser answers."""

import json

import pytest

from defectlab.json_input import json_input_load

SAME_AS_JSON = [
    '{"expected_revision": 3, "geometry": {"polygons": [{"exterior": [[0.3333333333333333, 1e-7], [14000, 2.5]]}]}}',
    '[1180591620717411303424, -9223372036854775809, 18446744073709551615]',  # past 64 bits: exact ints
    '{"a": 1, "a": 2}',  # the last of a repeated key, as json keeps it
    '["\\ud83d\\ude00", "\\u0000", "é"]',  # a surrogate pair is one character
    '[1e400, -1e400]',  # json reads infinity here (the geometry's rules refuse it later), orjson refuses it
    "[-0.0, 0.1, 1E5, 123456789012345678]",
    '"text"',
]


@pytest.mark.parametrize("text", SAME_AS_JSON)
def test_a_value_is_what_json_reads(text):
    # when
    value = json_input_load(text)
    # then
    assert repr(value) == repr(json.loads(text))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[NaN]", "NaN"),
        ('["\\ud800"]', "lone surrogate"),
        ('["\\udc00 alone"]', "lone surrogate"),
        ("[" * 33 + "]" * 33, "nested more than 32"),
        ("[" * 5000 + "]" * 5000, "nested more than 32"),
        ('{"a": [1, 2}', "Expecting"),
    ],
)
def test_what_json_refuses_or_must_not_hold_is_refused(text, reason):
    # when
    with pytest.raises(ValueError, match=reason):
        json_input_load(text)
