"""The API's JSON parser (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES): DRF's, reading through json_input_load, so a
body nested too deep is a 400 like any other malformed JSON, never a RecursionError (a 500)."""

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from defectlab.json_input import json_input_load


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:  # any JSON value: the serializer says which it takes
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json_input_load(stream.read().decode(encoding))
        except (ValueError, LookupError) as error:  # LookupError: a charset that is not a text encoding
            raise ParseError(f"JSON parse error - {error}") from None
