"""Serializer fields for values from outside, checked the way defectlab/validation.py says: integers within their
column, names on one line, JSON within the nesting limit."""

from typing import Any

from django.db import models
from rest_framework import serializers

from defectlab.json_input import json_input_load
from defectlab.json_output import json_bytes
from defectlab.validation import integer_range, name_refusal


def column_integer_field(
    model: type[models.Model], field_name: str, *, min_value: int | None = None, **kwargs: Any
) -> serializers.IntegerField:
    """An IntegerField that accepts what the model's column holds; `min_value` may only narrow the range."""
    smallest, largest = integer_range(model, field_name)
    return serializers.IntegerField(
        min_value=smallest if min_value is None else max(min_value, smallest), max_value=largest, **kwargs
    )


class NameField(serializers.CharField):
    """One line of printable text: no control characters, no line or paragraph separators."""

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        refusal = name_refusal(text)
        if refusal is not None:
            raise serializers.ValidationError(f"This name {refusal}.")
        return text


class BoundedJSONField(serializers.JSONField):
    """DRF's JSONField, but JSON typed into a form field is read like a JSON body (json_input_load): nesting is
    bounded and NaN refused. (Values from a JSON body were bounded by the parser already.) DRF proves a value can
    be written as JSON by writing it with json.dumps; orjson does the same ten times faster (16 ms of a
    10,000-vertex geometry's save)."""

    def to_internal_value(self, data: Any) -> Any:
        if getattr(data, "is_json_string", False) or self.binary:  # a str from a form; bytes when binary
            try:
                return json_input_load(data)
            except ValueError:
                self.fail("invalid")
        if self.encoder is not None:
            return super().to_internal_value(data)
        try:
            json_bytes(data)
        except (TypeError, ValueError):
            self.fail("invalid")
        return data
