from typing import Any

from django.db.backends.sqlite3 import base, operations

from defectlab.json_output import json_bytes


class DatabaseOperations(operations.DatabaseOperations):
    def adapt_json_value(self, value: Any, encoder: Any) -> Any:
        if encoder is not None:  # a field with its own encoder class keeps json.dumps
            return super().adapt_json_value(value, encoder)
        return json_bytes(value).decode()  # SQLite's JSON functions read text, not blobs


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
