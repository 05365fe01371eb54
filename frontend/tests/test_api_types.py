"""The editor's typed API client is generated from the server's OpenAPI schema (`npm run schema`); a change to an
endpoint that is not regenerated into frontend/src/api/schema.d.ts fails here, not in an inspector's browser."""

import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

FRONTEND = Path(__file__).resolve().parent.parent
GENERATOR = FRONTEND / "node_modules" / ".bin" / "openapi-typescript"
COMMITTED = FRONTEND / "src" / "api" / "schema.d.ts"


def test_the_committed_api_types_match_the_server_schema(tmp_path):
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: run (cd frontend && npm install)")
    schema = tmp_path / "openapi.yml"
    call_command("spectacular", "--file", str(schema))
    generated = tmp_path / "schema.d.ts"
    subprocess.run(  # noqa: S603 - the project's own generator on a schema written just above
        [str(GENERATOR), str(schema), "-o", str(generated)], cwd=FRONTEND, check=True, capture_output=True
    )
    assert generated.read_text() == COMMITTED.read_text(), (
        "frontend/src/api/schema.d.ts is out of date: run (cd frontend && npm run schema) and commit it"
    )
