"""The API's JSON renderer (REST_FRAMEWORK's DEFAULT_RENDERER_CLASSES): DRF's, writing with orjson
(defectlab/json_output.py). The editor's load of an image with 2,000 annotations and a save's answer are mostly
floats, which the standard library formats slowly. DRF's encoder still writes what orjson does not know (dates
and times, as DRF spells them; decimals, lazy strings, arrays), and a pretty-printed answer asked for with
`Accept: application/json; indent=4` still comes from DRF itself."""

from typing import Any

from rest_framework import renderers

from defectlab.json_output import json_bytes

_LINE_SEPARATORS = ("\u2028".encode(), "\u2029".encode())


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        text = json_bytes(data, default=self.encoder_class().default, passthrough_datetime=True)
        # As DRF does: JSON that is also a strict JavaScript subset.
        if _LINE_SEPARATORS[0] in text or _LINE_SEPARATORS[1] in text:
            text = text.replace(_LINE_SEPARATORS[0], b"\\u2028").replace(_LINE_SEPARATORS[1], b"\\u2029")
        return text
