"""Every write operation in the OpenAPI schema, sent hostile values as every role: none may answer 500.

The operations come from the schema drf-spectacular generates in-process (not from a list kept here), so a new
endpoint is walked as soon as it exists. A valid call for each one comes from the role matrix's builders
(tests/test_role_matrix.py); an operation without a builder is walked with ids of 1 and the schema's fields.
Each field of the body is replaced, one at a time, by values an attacker would try (huge and negative numbers,
NaN and infinity as strings, NUL and control characters, 100,000 characters, wrong types, deep nesting, other
projects' ids); the whole body is replaced by broken JSON, an empty body and a body nested 100,000 levels deep;
each id in the path by 2**70 and by the other project's. Every request runs in a savepoint that is rolled back,
so one request's effect never changes what the next one finds.
"""

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from annotation.models import Project
from annotation.services.annotations import annotation_create
from tests import test_role_matrix as role_matrix
from tests.factories import DefectClassFactory, SeverityLevelFactory, image_create
from tests.test_role_matrix import REQUESTS, SQUARE, Call, World

world = role_matrix.world  # the role matrix's fixture: the team, an image assigned to every labeller, one to nobody

WRITE_METHODS = ("post", "put", "patch", "delete")
ROLES = ("inspector", "senior", "ml_engineer", "admin", "outsider")
HUGE = 2**70
DEEP = 100_000
LONG_TEXT = "x" * 100_000

# Values tried in every field, whatever its type.
ANY_TYPE: list[object] = [
    None,
    "",
    "NaN",
    "1e400",
    1.5,
    True,
    [],
    {},
    "\x00",
    "\x01\x1b[31m",
    "two\nlines",
    LONG_TEXT,
    HUGE,
    -HUGE,
    2**63,
    2**31,
    -1,
]
BY_TYPE: dict[str, list[object]] = {
    "integer": [2**31 - 1, -(2**31) - 1, "9" * 5000],
    "number": [1e308, "-Infinity", "9" * 5000],
    "string": ["a:b,c", "\u2028", "\ud800", "²"],
    "boolean": ["yes", 2],
    "array": [["\x00"], [HUGE], [None], [[]], [{}], [LONG_TEXT], list(range(1, 10_002)), ["²"]],
    "object": [{"²": {}}, {"1": {"measure": "box", "iou_threshold": HUGE}}, {"\x00": 1}, {LONG_TEXT: 1}],
}
SAME_AS_BEFORE = [None, "NaN", HUGE, -HUGE, "\x00", LONG_TEXT]  # for a field declared like one already walked
JSON_TEXT_VALUES = ["NaN", '{"1": NaN}', "[" * DEEP, "9" * 5000, '{"polygons": Infinity}']  # JSON in form fields


def nested(depth: int) -> object:
    value: object = []
    for _ in range(depth):
        value = [value]
    return value


BROKEN_BODIES = [
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"{",
    b'{"a": NaN}',
    b'{"a": 1e999}',
    b'{"a": ' + b"9" * 5000 + b"}",
    b"\xff\xfe\x00",
    b"[" * DEEP + b"]" * DEEP,
    b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    json.dumps({"a": nested(200)}).encode(),
]


@functools.cache
def api_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def write_operations() -> list[tuple[str, str]]:
    return [
        (path, method)
        for path, operations in api_schema()["paths"].items()
        for method in operations
        if method in WRITE_METHODS
    ]


def resolved(schema: dict) -> dict:
    """The schema with its $ref (and single-entry allOf) followed."""
    while True:
        if "$ref" in schema:
            schema = api_schema()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif len(schema.get("allOf", [])) == 1:
            schema = {**schema, **schema["allOf"][0]}
            del schema["allOf"]
        else:
            return schema


def body_fields(path: str, method: str) -> tuple[str | None, dict[str, dict]]:
    """(media type, {field: its schema}) of the operation's request body; (None, {}) without one."""
    content = api_schema()["paths"][path][method].get("requestBody", {}).get("content", {})
    for media_type in ("application/json", "multipart/form-data"):
        if media_type in content:
            properties = resolved(content[media_type]["schema"]).get("properties", {})
            return media_type, {name: resolved(schema) for name, schema in properties.items()}
    return None, {}


def url_name_of(path_template: str) -> str:
    return str(resolve(re.sub(r"\{[^}]+\}", "1", path_template)).url_name)


@dataclass
class Probe:
    """One hostile request."""

    description: str
    path: str
    data: object = None
    raw: bytes | None = None  # sent as it is, with content_type
    content_type: str = "application/json"
    format: str | None = None
    roles: tuple[str, ...] = ()  # empty: the roles that may call the operation


@dataclass
class Foreign:
    """Ids of another project's rows, for an admin of this project to try."""

    ids: dict[str, int] = field(default_factory=dict)  # path parameter or body field -> another project's id


@pytest.fixture
def foreign(world) -> Foreign:
    other = Project.objects.get(slug="other-line")
    defect_class = DefectClassFactory.create(project=other, name="foreign crack")
    severity = SeverityLevelFactory.create(defect_class=defect_class, name="foreign minor", rank=1)
    image = image_create(project=other, seed=99, name="foreign.png")
    annotation = annotation_create(
        user=world.team.outsider, image_id=image.pk, defect_class_id=defect_class.pk, geometry_data=SQUARE
    )
    ids = {
        "project_id": other.pk,
        "image_id": image.pk,
        "annotation_id": annotation.pk,
        "defect_class_id": defect_class.pk,
        "into_defect_class_id": defect_class.pk,
        "precedent_defect_class_id": defect_class.pk,
        "severity_id": severity.pk,
        "user_id": world.team.outsider.pk,
    }
    return Foreign(ids=ids)


def base_calls(world: World, path_template: str, method: str) -> list:
    """Valid calls of the operation from the role matrix's builders (one per variant), or one made up."""
    name = url_name_of(path_template)
    calls = [build(world) for (url_name, verb, _), build in REQUESTS.items() if (url_name, verb) == (name, method)]
    return calls or [Call(re.sub(r"\{[^}]+\}", "1", path_template), {})]


def body_probes(call, media_type: str | None, fields: dict[str, dict], foreign: Foreign) -> Iterator[Probe]:
    path, query = (call.path.split("?", 1) + [""])[:2]
    if media_type == "multipart/form-data":
        yield from multipart_probes(call, fields)
        return
    base = dict(call.data or {})
    form_base = {key: value if isinstance(value, str) else json.dumps(value) for key, value in base.items()}
    signatures_seen = set()
    for name, schema in fields.items():
        kind = schema.get("type", "object")  # JSON fields have no type
        values: list[object] = [*ANY_TYPE, *BY_TYPE.get(kind, BY_TYPE["object"])]
        # Fields declared alike (eight minimum sizes) get every value once, then the few that differ by field.
        signature = json.dumps({key: value for key, value in schema.items() if key != "description"}, sort_keys=True)
        if signature in signatures_seen:
            values = list(SAME_AS_BEFORE)
        signatures_seen.add(signature)
        if name in foreign.ids:
            values = [*values, foreign.ids[name]]
        if name.endswith("_ids") and "image_id" in foreign.ids:
            values = [*values, [foreign.ids["image_id"]]]
        for value in values:
            yield Probe(f"{name}={_short(value)}", call.path, {**base, name: value}, format="json")
        if kind in ("object", "array"):  # a form post's JSON fields are parsed from text
            for text in JSON_TEXT_VALUES:
                yield Probe(f"form {name}={_short(text)}", call.path, {**form_base, name: text}, format="multipart")
    for raw in BROKEN_BODIES:
        yield Probe(f"body {_short(raw)}", call.path, raw=raw)
    if query:
        for key in dict(part.split("=", 1) for part in query.split("&")):
            for value in ("", HUGE, -1, "NaN", "%00", "1e400", LONG_TEXT):
                yield Probe(f"?{key}={_short(value)}", f"{path}?{key}={value}")


def multipart_probes(call, fields: dict[str, dict]) -> Iterator[Probe]:
    """Files named and filled to hurt, and hostile text in the other fields."""
    file_field = next((name for name, schema in fields.items() if schema.get("format") == "binary"), None)
    file_field = file_field or next(iter(fields), "files")
    contents = [b"[" * DEEP, b'{"images": NaN}', b"\x00" * 10, b'{"categories": [{"id": ' + b"9" * 5000 + b"}]}"]
    for content in contents:
        upload = SimpleUploadedFile("instances.json", content, content_type="application/json")
        yield Probe(f"file {_short(content)}", call.path, {file_field: upload}, format="multipart")
    for filename in ("a\x00.png", "../../etc/passwd", "x" * 5000 + ".png", "\u202egnp.exe"):
        upload = SimpleUploadedFile(filename, b"not an image", content_type="image/png")
        yield Probe(f"file name {_short(filename)}", call.path, {file_field: upload}, format="multipart")
    for name in fields:
        if name == file_field:
            continue
        for value in ("NaN", "\x00", LONG_TEXT, str(HUGE), "[" * DEEP):
            upload = SimpleUploadedFile("part.png", b"not an image", content_type="image/png")
            yield Probe(f"{name}={_short(value)}", call.path, {file_field: upload, name: value}, format="multipart")


def path_probes(call, path_template: str, foreign: Foreign) -> Iterator[Probe]:
    """Each id in the path replaced by 2**70, by 2**63 (one past the largest id column) and by the other
    project's id of that kind."""
    path = call.path.split("?", 1)[0]
    names = re.findall(r"\{([^}]+)\}", path_template)
    match = re.match("^" + re.sub(r"\\\{[^}]+\\\}", r"([^/]+)", re.escape(path_template)) + "$", path)
    if not match:
        return
    for index, name in enumerate(names):
        for replacement in [HUGE, 2**63] + ([foreign.ids[name]] if name in foreign.ids else []):
            parts = list(match.groups())
            parts[index] = str(replacement)
            hostile = path_template
            for part_name, part in zip(names, parts, strict=True):
                hostile = hostile.replace("{" + part_name + "}", part)
            yield Probe(f"path {name}={_short(replacement)}", hostile, call.data, format=call.format)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}...({len(text)} chars)"


def permitted_roles(clients: dict[str, APIClient], method: str, call) -> tuple[str, ...]:
    """The roles whose valid call gets past the permission checks (anything but 401, 403 and 404)."""
    probe = Probe("valid", call.path, call.data, format=call.format)
    roles = tuple(role for role, client in clients.items() if status_of(client, method, probe) not in (401, 403, 404))
    return roles or ("admin",)


def status_of(client: APIClient, method: str, probe: Probe) -> int:
    with transaction.atomic():
        if probe.raw is not None:
            response = client.generic(method.upper(), probe.path, probe.raw, content_type=probe.content_type)  # type: ignore[arg-type]
        elif probe.format == "json":  # as a client sends it: "\ud800" escaped (the test client would not encode it)
            body = json.dumps(probe.data).encode()
            response = client.generic(method.upper(), probe.path, body, content_type="application/json")  # type: ignore[arg-type]
        else:
            response = getattr(client, method)(probe.path, probe.data, format=probe.format)
        if response.streaming:
            b"".join(response.streaming_content)  # type: ignore[attr-defined]  # consuming it closes the file, as a WSGI server would
        transaction.set_rollback(True)
    return response.status_code


def failure_of(client: APIClient, method: str, probe: Probe) -> str | None:
    """None when the server answered below 500; else what went wrong."""
    try:
        status = status_of(client, method, probe)
    except Exception as error:  # noqa: BLE001 - any escaped exception is the finding
        return f"{type(error).__name__}: {str(error)[:120]}"
    return f"answered {status}" if status >= 500 else None


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path_template", "method"),
    [pytest.param(*operation, id=f"{operation[1]} {operation[0]}") for operation in write_operations()],
)
def test_hostile_values_never_get_a_500(world, foreign, path_template, method):
    # given
    media_type, fields = body_fields(path_template, method)
    clients = {role: APIClient() for role in ROLES}
    for role, client in clients.items():
        client.force_authenticate(world.team.member(role))
    # The variant (assigned image, own annotation, ...) that the most roles may call: validation is the same.
    call, permitted = max(
        ((call, permitted_roles(clients, method, call)) for call in base_calls(world, path_template, method)),
        key=lambda pair: len(pair[1]),
    )
    probes = [
        (probe, probe.roles or permitted)
        for probe in (*body_probes(call, media_type, fields, foreign), *path_probes(call, path_template, foreign))
    ]
    # when
    failures = [
        f"{role}: {probe.description} -> {failure}"
        for probe, roles in probes
        for role in roles
        if (failure := failure_of(clients[role], method, probe)) is not None
    ]
    # then
    assert failures == [], f"{len(failures)} hostile requests failed:\n" + "\n".join(failures[:40])


def test_every_write_operation_in_the_schema_is_walked():
    # given
    operations = write_operations()
    # then: the schema has the operations the probe found 500s on (a broken generator would pass vacuously)
    assert {
        ("/api/v1/projects/{project_id}/versions/", "post"),
        ("/api/v1/defect-classes/{defect_class_id}/", "patch"),
        ("/api/v1/projects/{project_id}/qa/policy/", "put"),
    } <= set(operations)
    assert len(operations) >= 30
