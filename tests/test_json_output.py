"""JSON written by orjson (defectlab/json_output.py): the same values json.dumps wrote, what orjson cannot write
still written, and the API's answers as DRF spelled them where the spelling is DRF's own (dates, times)."""

import datetime
import decimal
import json

import pytest
from django.db import connection
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from annotation.models import AuditEntry
from defectlab.api.renderers import JSONRenderer
from defectlab.json_output import json_bytes

VALUES = [
    {"polygons": [{"exterior": [[0.1, 1e-05], [123.456789012345678, 1e16], [-0.0, 7.0]], "holes": []}]},
    {1: "one", "text": 'crack \u00e9 \u2028 "quoted"\n', "nested": [[[]], {}], "flag": True, "none": None},
    {"huge": 2**70, "negative": -(2**64)},  # past 64 bits: orjson refuses, the standard library writes them
]


@pytest.mark.parametrize("value", VALUES)
def test_json_bytes_writes_the_values_json_dumps_wrote(value):
    assert json.loads(json_bytes(value)) == json.loads(json.dumps(value))


def test_the_renderer_writes_dates_times_and_decimals_as_drf_did():
    data = {
        "at": datetime.datetime(2026, 3, 2, 7, 30, 1, 123456, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 3, 2),
        "price": decimal.Decimal("1.50"),
        "line": "a\u2028b\u2029c",
    }
    assert JSONRenderer().render(data) == DrfJSONRenderer().render(data)


def test_a_pretty_printed_answer_is_drf_s_own():
    data = {"a": [1, 2]}
    rendered = JSONRenderer().render(data, "application/json; indent=4", {})
    assert rendered == DrfJSONRenderer().render(data, "application/json; indent=4", {})
    assert b"\n    " in rendered


@pytest.mark.django_db
@pytest.mark.parametrize("value", VALUES)
def test_a_json_column_holds_what_it_was_given(value, team):
    entry = AuditEntry.objects.create(
        project=team.project, action="update", object_type="annotation", object_id=1, before=value, after=None
    )
    entry.refresh_from_db()
    assert entry.before == json.loads(json.dumps(value))
    assert connection.settings_dict["ENGINE"].startswith("defectlab.db.")
