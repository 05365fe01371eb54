"""Annotations as JSON without a round trip through Python objects: rows from the database, their geometry as
the database's JSON text, spliced into the response. An image may hold DEFECTLAB_IMAGE_MAX_ANNOTATIONS annotations
and DEFECTLAB_IMAGE_MAX_VERTICES vertices; the requests that list them all (the editor's load, the annotation
list) decoded every vertex into a model instance only to encode it again, which was most of their time."""

import datetime
import json
import uuid
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any, cast

import orjson
from rest_framework import ISO_8601, serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.settings import api_settings

from annotation.api.serializers import AnnotationOutput
from defectlab.json_output import json_bytes


class RawJson(str):
    """JSON text that goes into a response as it is: the whole response, or a top-level value of it."""


class RawJsonRenderer(BaseRenderer):
    """The site's JSON renderer (the first JSON one of DEFAULT_RENDERER_CLASSES, whatever it does to the rest of
    the body), with RawJson values spliced in unparsed: each is swapped for a per-response random marker string,
    the rest is rendered as usual, and the marker (quoted) replaced by the text. A marker cannot occur in the other
    values: it is made after they exist, and it is 122 random bits."""

    media_type, format, charset = "application/json", "json", None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        if isinstance(data, RawJson):
            return data.encode()
        renderers = cast(list[type[BaseRenderer]], api_settings.DEFAULT_RENDERER_CLASSES)
        json_renderer = next(renderer() for renderer in renderers if renderer.media_type == self.media_type)
        raw = (
            {key: value for key, value in data.items() if isinstance(value, RawJson)} if isinstance(data, dict) else {}
        )
        if not raw:
            return _as_bytes(json_renderer.render(data, accepted_media_type, renderer_context))
        markers = {key: uuid.uuid4().hex for key in raw}
        rendered = _as_bytes(json_renderer.render({**data, **markers}, accepted_media_type, renderer_context))
        for key, text in raw.items():
            rendered = rendered.replace(f'"{markers[key]}"'.encode(), text.encode(), 1)
        return rendered


def _as_bytes(rendered: str | bytes) -> bytes:
    return rendered.encode() if isinstance(rendered, str) else rendered


def _datetime_renderer(field: serializers.DateTimeField) -> Callable[[Any], object]:
    """DRF's DateTimeField.to_representation with the field's timezone looked up once per response, not per value
    (4,000 lookups of the request's timezone were a fifth of the editor's load of 2,000 annotations). Only the
    common case is done here: an aware value and ISO 8601 output; anything else goes to DRF."""
    zone = getattr(field, "timezone", None) or field.default_timezone()
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if zone is None or output_format is None or output_format.lower() != ISO_8601:
        return field.to_representation

    def render(value: Any) -> object:
        if not isinstance(value, datetime.datetime) or value.tzinfo is None:
            return field.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return render


def _field_renderer(serializer: serializers.Serializer, field: serializers.Field) -> Callable[[dict], object]:
    """How one AnnotationOutput field renders a row of annotation_rows_for_image, as the serializer would."""
    if isinstance(field, serializers.SerializerMethodField):
        method = getattr(serializer, field.method_name)
        return lambda row: method(SimpleNamespace(**row))
    source = field.source
    to_representation = (
        _datetime_renderer(field) if isinstance(field, serializers.DateTimeField) else field.to_representation
    )
    return lambda row: None if row[source] is None else to_representation(row[source])


def annotations_json(rows: list[dict]) -> RawJson:
    """AnnotationOutput for each row of `annotation_rows_for_image`, as one JSON array, the stored geometry text
    sent as it is. The fields come from AnnotationOutput itself, so the two never differ (the editor's contract
    test compares them)."""
    serializer = AnnotationOutput()
    renderers = {name: _field_renderer(serializer, field) for name, field in serializer.fields.items()}
    geometry = renderers.pop("geometry", None)
    items = []
    for row in rows:
        item = {name: render(row) for name, render in renderers.items()}
        if geometry is not None:
            # The database's text of the stored geometry: numbers and the keys polygons/exterior/holes only (the
            # service wrote it), so its spaces are formatting and can go.
            item["geometry"] = orjson.Fragment(row["geometry_json"].replace(" ", ""))
        items.append(item)
    try:
        return RawJson(orjson.dumps(items, option=orjson.OPT_NON_STR_KEYS).decode())
    except orjson.JSONEncodeError:  # what orjson cannot write (an integer past 64 bits in a provenance)
        for item, row in zip(items, rows, strict=True):
            if geometry is not None:
                item["geometry"] = json.loads(row["geometry_json"])
        return RawJson(json_bytes(items).decode())
