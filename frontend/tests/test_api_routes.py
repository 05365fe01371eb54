"""Every API call the browser code makes goes through one table, frontend/src/api/routes.ts, whose path templates
`tsc` checks against schema.d.ts (test_api_types.py keeps that equal to the server's schema). These tests keep the
table the only place: no API path written in a page's script or a template, no hand-written script beside the
bundle, and the table's operations are the server's."""

import re
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

FRONTEND = Path(__file__).resolve().parent.parent
SOURCE = FRONTEND / "src"
ROUTE_TABLE = SOURCE / "api" / "routes.ts"
TEMPLATES = FRONTEND / "templates"
STATIC = FRONTEND / "static"
BUILD = STATIC / "frontend" / "build"  # Vite's output, not committed

ROUTE = re.compile(r'(\w+): \{\s*method: "(\w+)",\s*path: "([^"]+)"\s*\}')
# An API path as code spells one: "/api/v1/" followed by a segment (a bare prefix names no endpoint).
API_PATH = re.compile(r"/api/v1/[\w{$]")
COMMENT = re.compile(r"/\*.*?\*/|(?:^|(?<=\s))//[^\n]*", re.DOTALL | re.MULTILINE)


def route_table(name: str) -> dict[str, tuple[str, str]]:
    """The named `as const` table of routes.ts: {operation: (method, path template)}."""
    text = ROUTE_TABLE.read_text()
    start = text.index(f"export const {name} = {{")
    body = text[start : text.index("} as const", start)]
    return {operation: (method, path) for operation, method, path in ROUTE.findall(body)}


def server_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {(method, path) for path, item in schema["paths"].items() for method in item}


def placeholders_blank(path: str) -> str:
    """The path with its parameter names left out: the server may name {job_id} {id}."""
    return re.sub(r"\{\w+\}", "{}", path)


def test_every_route_is_an_operation_of_the_server():
    routes = route_table("ROUTES")
    assert len(routes) > 20, "the route table was not read: has routes.ts changed its layout?"
    missing = {name: route for name, route in routes.items() if route not in server_operations()}
    assert missing == {}, "routes.ts calls operations the server does not have: (cd frontend && npm run schema)"


def test_a_pending_route_moves_into_the_table_once_the_server_has_it():
    pending = route_table("PENDING_ROUTES")
    served = {(method, placeholders_blank(path)) for method, path in server_operations()}
    arrived = [name for name, (method, path) in pending.items() if (method, placeholders_blank(path)) in served]
    assert arrived == [], (
        f"the server's schema now has {arrived}: run (cd frontend && npm run schema), move them from PENDING_ROUTES "
        "into ROUTES, and type them from schema.d.ts instead of by hand in client.ts"
    )


def test_no_script_spells_an_api_path_outside_the_route_table():
    # Tests may spell URLs: checking the URLs the client builds is what they are for.
    scripts = [
        path
        for path in SOURCE.rglob("*.ts")
        if path not in (ROUTE_TABLE, SOURCE / "api" / "schema.d.ts") and not path.name.endswith(".test.ts")
    ]
    # Comments may name an endpoint; code may not.
    spelled = {
        str(path.relative_to(FRONTEND)) for path in scripts if API_PATH.search(COMMENT.sub("", path.read_text()))
    }
    assert spelled == set(), "build API URLs with routeUrl(ROUTES.x, ...) or the typed client, not by hand"


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda path: path.name)
def test_templates_pass_ids_not_api_paths(template):
    # Links to the API (downloads, thumbnails) are reversed with {% url %}; scripts get ids in data attributes.
    assert API_PATH.findall(template.read_text()) == []


def test_static_files_hold_no_hand_written_script():
    scripts = [
        path.relative_to(FRONTEND)
        for path in STATIC.rglob("*")
        if path.suffix in {".js", ".mjs", ".ts"} and BUILD not in path.parents
    ]
    assert scripts == [], "page scripts are TypeScript in frontend/src, bundled by Vite (vite.config.ts)"
