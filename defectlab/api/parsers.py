"""The API's JSON parser (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES): DRF's, reading through json_input_load, so a
body nested too deep is a 400 like any other malformed JSON, never a RecursionError (a 500)."""

from typing import IO

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from defectlab.json_input import json_input_load


class JSONParser(parsers.JSONParser):
    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: dict | None = None) -> object:
        encoding = parsers.get_encoding(parser_context or {})  # refuses a charset that is not text (ParseError)
        try:
            return json_input_load(stream.read().decode(encoding))
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
