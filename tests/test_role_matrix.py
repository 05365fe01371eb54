"""Who gets what from every API endpoint: one row per operation (and per case worth its own row), one column per role.

Anonymous requests get 401 (body code `not_authenticated`): token authentication comes first and sends a
WWW-Authenticate challenge, so clients can tell "log in" from "not allowed".
The outsider is an admin of another project: every id of this project answers 404, as if it did not exist.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from annotation.models import (
    Annotation,
    Assignment,
    AuditEntry,
    DefectClass,
    Image,
    ImageComment,
    Membership,
    Project,
    Role,
    SeverityLevel,
)
from annotation.services.annotations import annotation_create
from annotation.services.images import assignments_create
from assist.tests.role_matrix import (
    ASSIST_ERROR_CODES,
    ASSIST_EXPECTED_STATUS,
    ASSIST_REQUESTS,
    ASSIST_WRITTEN_MODELS,
)
from conftest import Team
from datasets.models import ImportJob
from datasets.services.jobs import IMPORT_JOB_KIND
from datasets.tests.role_matrix import DATASETS_EXPECTED_STATUS, DATASETS_REQUESTS, DATASETS_WRITTEN_MODELS
from defectlab.accounts.models import ApiToken
from defectlab.accounts.services import api_token_create
from defectlab.jobs.services import job_create
from qa.tests.role_matrix import QA_EXPECTED_STATUS, QA_REQUESTS, QA_WRITTEN_MODELS
from tests.factories import DefectClassFactory, MembershipFactory, UserFactory, image_create, png_bytes
from tests.jobs_role_matrix import JOBS_EXPECTED_STATUS, JOBS_REQUESTS, JOBS_WRITTEN_MODELS

ROLES = ("anonymous", "inspector", "senior", "ml_engineer", "admin", "outsider")
API_PREFIXES = ("api/",)
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
SQUARE = {"polygons": [{"exterior": [[10, 10], [20, 10], [20, 20], [10, 20]]}]}

# Variants of one operation that differ in the object asked for (short: they are part of the test ids).
ASSIGNED = "assigned"  # an image assigned to the inspector, the senior and the admin
UNASSIGNED = "unassigned"  # an image assigned to nobody
OWN = "own"  # the inspector's annotation on the assigned image
OTHERS = "others"  # the senior's annotation on the assigned image
ON_UNASSIGNED = "on-unassigned"  # the admin's annotation on the unassigned image

# fmt: off
#  url name                     method    variant        anon insp senior  ml  admin outsider
EXPECTED_STATUS = [
    ("project-list",            "get",    "",            401, 200, 200, 200, 200, 200),
    ("project-list",            "post",   "",            401, 403, 403, 403, 403, 403),  # site admins only
    ("project-detail",          "get",    "",            401, 200, 200, 200, 200, 404),
    ("project-detail",          "patch",  "",            401, 403, 403, 403, 200, 404),
    ("member-list",             "get",    "",            401, 403, 403, 403, 200, 404),
    ("member-list",             "post",   "",            401, 403, 403, 403, 201, 404),
    ("member-delete",           "delete", "",            401, 403, 403, 403, 204, 404),
    ("defect-class-list",       "get",    "",            401, 200, 200, 200, 200, 404),
    ("defect-class-list",       "post",   "",            401, 403, 403, 403, 201, 404),
    ("defect-class-detail",     "patch",  "",            401, 403, 403, 403, 200, 404),
    ("defect-class-detail",     "delete", "",            401, 403, 403, 403, 204, 404),
    ("defect-class-merge",      "post",   "",            401, 403, 403, 403, 200, 404),
    ("defect-class-split",      "post",   "",            401, 403, 403, 403, 201, 404),
    ("image-list",              "get",    "",            401, 200, 200, 200, 200, 404),
    ("assignment-create",       "post",   "",            401, 403, 201, 403, 201, 404),
    ("audit-list",              "get",    "",            401, 403, 403, 403, 200, 404),
    ("image-detail",            "get",    ASSIGNED,      401, 200, 200, 200, 200, 404),
    ("image-detail",            "get",    UNASSIGNED,    401, 404, 200, 200, 200, 404),
    ("image-file",              "get",    ASSIGNED,      401, 200, 200, 200, 200, 404),
    ("image-file",              "get",    UNASSIGNED,    401, 404, 200, 200, 200, 404),
    ("image-tile",              "get",    ASSIGNED,      401, 200, 200, 200, 200, 404),
    ("image-tile",              "get",    UNASSIGNED,    401, 404, 200, 200, 200, 404),
    ("image-editor",            "get",    ASSIGNED,      401, 200, 200, 200, 200, 404),
    ("image-editor",            "get",    UNASSIGNED,    401, 404, 200, 200, 200, 404),
    ("image-comment-list",      "get",    ASSIGNED,      401, 200, 200, 200, 200, 404),
    ("image-comment-list",      "get",    UNASSIGNED,    401, 404, 200, 200, 200, 404),
    ("image-comment-list",      "post",   ASSIGNED,      401, 201, 201, 201, 201, 404),  # anyone who sees it
    ("image-comment-list",      "post",   UNASSIGNED,    401, 404, 201, 201, 201, 404),
    ("image-defect-free",       "post",   ASSIGNED,      401, 200, 200, 403, 200, 404),
    ("image-defect-free",       "post",   UNASSIGNED,    401, 404, 200, 403, 200, 404),
    ("image-submit",            "post",   ASSIGNED,      401, 200, 200, 403, 200, 404),
    ("image-submit",            "post",   UNASSIGNED,    401, 404, 400, 403, 400, 404),  # 400: not assigned to you
    ("annotation-list",         "get",    ASSIGNED,      401, 200, 200, 200, 200, 404),
    ("annotation-list",         "get",    UNASSIGNED,    401, 404, 200, 200, 200, 404),
    ("annotation-list",         "post",   ASSIGNED,      401, 201, 201, 403, 201, 404),
    ("annotation-list",         "post",   UNASSIGNED,    401, 404, 201, 403, 201, 404),
    ("annotation-detail",       "put",    OWN,           401, 200, 200, 403, 200, 404),
    ("annotation-detail",       "put",    OTHERS,        401, 403, 200, 403, 200, 404),
    ("annotation-detail",       "put",    ON_UNASSIGNED, 401, 404, 200, 403, 200, 404),
    ("annotation-detail",       "delete", OWN,           401, 204, 204, 403, 204, 404),
    ("annotation-detail",       "delete", OTHERS,        401, 403, 204, 403, 204, 404),
    ("annotation-detail",       "delete", ON_UNASSIGNED, 401, 404, 204, 403, 204, 404),
    ("queue",                   "get",    "",            401, 200, 200, 200, 200, 200),
    ("queue-next",              "get",    "",            401, 200, 200, 204, 200, 204),  # 204: nothing assigned
    ("upload-create",           "post",   "",            401, 403, 403, 403, 202, 404),
    ("upload-detail",           "get",    "",            401, 403, 403, 403, 200, 404),
    ("auth-token",              "post",   "",            400, 200, 200, 200, 200, 200),  # anonymous: bad password
    ("auth-token-list",         "get",    "",            401, 200, 200, 200, 200, 200),  # one's own tokens
    ("auth-token-revoke",       "delete", "",            401, 204, 404, 404, 404, 404),  # the inspector's token
    ("schema",                  "get",    "",            200, 200, 200, 200, 200, 200),
    ("api-docs",                "get",    "",            200, 200, 200, 200, 200, 200),
]
# fmt: on


@dataclass
class World:
    """The conftest team plus two real images: one assigned to every labelling role, one to nobody."""

    team: Team
    assigned_image: Image
    unassigned_image: Image

    def annotation(self, variant: str) -> Annotation:
        author, image = {
            OWN: (self.team.inspector, self.assigned_image),
            OTHERS: (self.team.senior, self.assigned_image),
            ON_UNASSIGNED: (self.team.admin, self.unassigned_image),
        }[variant]
        return annotation_create(
            user=author, image_id=image.pk, defect_class_id=self.team.defect_class.pk, geometry_data=SQUARE
        )

    def image(self, variant: str) -> Image:
        return {ASSIGNED: self.assigned_image, UNASSIGNED: self.unassigned_image}[variant]


@pytest.fixture
def world(team) -> World:
    # Tiny pyramids (64 x 48 in 32 px tiles: 2 x 2 tiles, then one), so image-tile has tiles to serve.
    with override_settings(DEFECTLAB_PYRAMID_MIN_PX=32, DEFECTLAB_PYRAMID_TILE_PX=32):
        assigned_image = image_create(project=team.project, seed=1, name="assigned.png")
        unassigned_image = image_create(project=team.project, seed=2, name="unassigned.png")
    for annotator in (team.inspector, team.senior, team.admin):
        assignments_create(
            project=team.project, image_ids=[assigned_image.pk], annotator=annotator, assigned_by=team.admin
        )
    return World(team=team, assigned_image=assigned_image, unassigned_image=unassigned_image)


@dataclass(frozen=True)
class Call:
    path: str
    data: dict | None = None
    format: str | None = "json"


def _upload_job(world: World) -> Call:
    job = job_create(kind=IMPORT_JOB_KIND, project=world.team.project, created_by=world.team.admin)
    upload = ImportJob.objects.create(job=job, project=world.team.project, created_by=world.team.admin)
    return Call(f"/api/v1/uploads/{upload.pk}/")


def _member_to_remove(world: World) -> Call:
    leaver = MembershipFactory.create(
        project=world.team.project, role=Role.INSPECTOR, user=UserFactory.create(username="leaver")
    )
    return Call(f"/api/v1/projects/{world.team.project.pk}/members/{leaver.user_id}/")


def _unused_defect_class(world: World) -> Call:
    unused = DefectClassFactory.create(project=world.team.project, name="scratch")
    return Call(f"/api/v1/defect-classes/{unused.pk}/")


def _merge_into_new_class(world: World) -> Call:
    fracture = DefectClassFactory.create(project=world.team.project, name="fracture")
    return Call(f"/api/v1/defect-classes/{world.team.defect_class.pk}/merge/", {"into_defect_class_id": fracture.pk})


def _upload(world: World) -> Call:
    part = SimpleUploadedFile("part.png", png_bytes(seed=9), content_type="image/png")
    return Call(f"/api/v1/projects/{world.team.project.pk}/uploads/", {"files": [part]}, format="multipart")


def _project(suffix: str = "", data: dict | None = None) -> Callable[[World], Call]:
    return lambda world: Call(f"/api/v1/projects/{world.team.project.pk}/{suffix}", data)


def _image(variant: str, suffix: str, data: dict | None = None) -> Callable[[World], Call]:
    return lambda world: Call(f"/api/v1/images/{world.image(variant).pk}/{suffix}", data)


def _new_annotation(variant: str) -> Callable[[World], Call]:
    return lambda world: Call(
        f"/api/v1/images/{world.image(variant).pk}/annotations/",
        {"defect_class_id": world.team.defect_class.pk, "geometry": SQUARE},
    )


def _annotation(variant: str, *, put: bool) -> Callable[[World], Call]:
    def build(world: World) -> Call:
        annotation = world.annotation(variant)
        if put:
            return Call(f"/api/v1/annotations/{annotation.pk}/", {"expected_revision": 1, "geometry": SQUARE})
        return Call(f"/api/v1/annotations/{annotation.pk}/?expected_revision=1")

    return build


REQUESTS: dict[tuple[str, str, str], Callable[[World], Any]] = {
    ("project-list", "get", ""): lambda world: Call("/api/v1/projects/"),
    ("project-list", "post", ""): lambda world: Call("/api/v1/projects/", {"name": "New line", "slug": "new-line"}),
    ("project-detail", "get", ""): _project(),
    ("project-detail", "patch", ""): _project(data={"description": "Glazed tiles"}),
    ("member-list", "get", ""): _project("members/"),
    ("member-list", "post", ""): lambda world: Call(
        f"/api/v1/projects/{world.team.project.pk}/members/",
        {"username": UserFactory.create(username="newcomer").username, "role": Role.INSPECTOR},
    ),
    ("member-delete", "delete", ""): _member_to_remove,
    ("defect-class-list", "get", ""): _project("defect-classes/"),
    ("defect-class-list", "post", ""): _project("defect-classes/", {"name": "pore"}),
    ("defect-class-detail", "patch", ""): lambda world: Call(
        f"/api/v1/defect-classes/{world.team.defect_class.pk}/", {"description": "A line-shaped fracture"}
    ),
    ("defect-class-detail", "delete", ""): _unused_defect_class,
    ("defect-class-merge", "post", ""): _merge_into_new_class,
    ("defect-class-split", "post", ""): lambda world: Call(
        f"/api/v1/defect-classes/{world.team.defect_class.pk}/split/", {"into": ["surface crack", "deep crack"]}
    ),
    ("image-list", "get", ""): _project("images/"),
    ("assignment-create", "post", ""): lambda world: Call(
        f"/api/v1/projects/{world.team.project.pk}/assignments/",
        {"annotator": "inspector", "image_ids": [world.unassigned_image.pk]},
    ),
    ("audit-list", "get", ""): _project("audit/"),
    ("image-detail", "get", ASSIGNED): _image(ASSIGNED, ""),
    ("image-detail", "get", UNASSIGNED): _image(UNASSIGNED, ""),
    ("image-file", "get", ASSIGNED): lambda world: Call(f"/api/v1/images/{world.assigned_image.pk}/file/thumbnail"),
    ("image-file", "get", UNASSIGNED): lambda world: Call(f"/api/v1/images/{world.unassigned_image.pk}/file/display"),
    ("image-tile", "get", ASSIGNED): _image(ASSIGNED, "tiles/1/0/0"),
    ("image-tile", "get", UNASSIGNED): _image(UNASSIGNED, "tiles/0/1/1"),
    ("image-editor", "get", ASSIGNED): _image(ASSIGNED, "editor/"),
    ("image-editor", "get", UNASSIGNED): _image(UNASSIGNED, "editor/"),
    ("image-comment-list", "get", ASSIGNED): _image(ASSIGNED, "comments/"),
    ("image-comment-list", "get", UNASSIGNED): _image(UNASSIGNED, "comments/"),
    ("image-comment-list", "post", ASSIGNED): _image(ASSIGNED, "comments/", {"text": "Is this a crack?"}),
    ("image-comment-list", "post", UNASSIGNED): _image(UNASSIGNED, "comments/", {"text": "Is this a crack?"}),
    ("image-defect-free", "post", ASSIGNED): _image(ASSIGNED, "defect-free/", {"is_defect_free": True}),
    ("image-defect-free", "post", UNASSIGNED): _image(UNASSIGNED, "defect-free/", {"is_defect_free": True}),
    ("image-submit", "post", ASSIGNED): _image(ASSIGNED, "submit/"),
    ("image-submit", "post", UNASSIGNED): _image(UNASSIGNED, "submit/"),
    ("annotation-list", "get", ASSIGNED): _image(ASSIGNED, "annotations/"),
    ("annotation-list", "get", UNASSIGNED): _image(UNASSIGNED, "annotations/"),
    ("annotation-list", "post", ASSIGNED): _new_annotation(ASSIGNED),
    ("annotation-list", "post", UNASSIGNED): _new_annotation(UNASSIGNED),
    ("annotation-detail", "put", OWN): _annotation(OWN, put=True),
    ("annotation-detail", "put", OTHERS): _annotation(OTHERS, put=True),
    ("annotation-detail", "put", ON_UNASSIGNED): _annotation(ON_UNASSIGNED, put=True),
    ("annotation-detail", "delete", OWN): _annotation(OWN, put=False),
    ("annotation-detail", "delete", OTHERS): _annotation(OTHERS, put=False),
    ("annotation-detail", "delete", ON_UNASSIGNED): _annotation(ON_UNASSIGNED, put=False),
    ("queue", "get", ""): lambda world: Call("/api/v1/queue/"),
    ("queue-next", "get", ""): lambda world: Call("/api/v1/queue/next/"),
    ("upload-create", "post", ""): _upload,
    ("upload-detail", "get", ""): _upload_job,
    ("auth-token", "post", ""): lambda world: Call("/api/v1/auth/token/"),  # the caller's credentials go in the test
    ("auth-token-list", "get", ""): lambda world: Call("/api/v1/auth/tokens/"),
    ("auth-token-revoke", "delete", ""): lambda world: Call(
        f"/api/v1/auth/tokens/{api_token_create(user=world.team.inspector)[0].pk}/"
    ),
    ("schema", "get", ""): lambda world: Call("/api/schema/"),
    ("api-docs", "get", ""): lambda world: Call("/api/docs/"),
}


def _api_operations() -> set[tuple[str, str]]:
    """(url name, method) for every API view in the URLconf, read from the resolver, not from this file."""
    operations: set[tuple[str, str]] = set()

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(API_PREFIXES):
                view_class = pattern.callback.cls  # type: ignore[attr-defined]  # as_view() sets it
                operations.update((str(pattern.name), method) for method in HTTP_METHODS if hasattr(view_class, method))

    walk(get_resolver().url_patterns, "")
    return operations


def test_every_api_operation_has_a_row_in_the_matrix():
    # given
    in_table = {(name, method) for name, method, *_ in EXPECTED_STATUS}
    # when
    in_urlconf = _api_operations()
    # then
    assert sorted(in_urlconf - in_table) == [], "operations without an expectation"
    assert sorted(in_table - in_urlconf) == [], "expectations for operations that no longer exist"
    assert sorted({(name, method, variant) for name, method, variant, *_ in EXPECTED_STATUS}) == sorted(REQUESTS)


# (status, anonymous?) -> the body's code
ERROR_CODES = {
    (400, False): "invalid",
    (400, True): "invalid",
    (403, False): "permission_denied",
    (401, True): "not_authenticated",
    (404, False): "not_found",
    (409, False): "no_prelabel_engine",  # pre-labels with the classical engine alone (others: ASSIST_ERROR_CODES)
}
WRITTEN_MODELS: tuple[type[Model], ...] = (
    Project,
    Membership,
    DefectClass,
    SeverityLevel,
    Image,
    Assignment,
    Annotation,
    AuditEntry,
    ImportJob,
    ImageComment,
    ApiToken,
)


def row_counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in WRITTEN_MODELS}


# QA's operations: their rows, requests and tables live beside the app.
EXPECTED_STATUS += QA_EXPECTED_STATUS
REQUESTS.update(QA_REQUESTS)
WRITTEN_MODELS += QA_WRITTEN_MODELS
# Dataset versions' operations, likewise.
EXPECTED_STATUS += DATASETS_EXPECTED_STATUS
REQUESTS.update(DATASETS_REQUESTS)
WRITTEN_MODELS += DATASETS_WRITTEN_MODELS
# The jobs API's, likewise.
EXPECTED_STATUS += JOBS_EXPECTED_STATUS
REQUESTS.update(JOBS_REQUESTS)
WRITTEN_MODELS += JOBS_WRITTEN_MODELS
# The assist's, likewise.
EXPECTED_STATUS += ASSIST_EXPECTED_STATUS
REQUESTS.update(ASSIST_REQUESTS)
WRITTEN_MODELS += ASSIST_WRITTEN_MODELS

MATRIX = [
    pytest.param(
        name,
        method,
        variant,
        role,
        statuses[ROLES.index(role)],
        id="-".join(filter(None, (name, method, variant, role))),
    )
    for name, method, variant, *statuses in EXPECTED_STATUS
    for role in ROLES
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "variant", "role", "expected"), MATRIX)
def test_role_gets_the_expected_status(world, api, name, method, variant, role, expected):
    # given
    user = None if role == "anonymous" else world.team.member(role)
    call = REQUESTS[name, method, variant](world)
    data = call.data
    if name == "auth-token":
        data = {"username": user.username if user else "nobody", "password": "pass"}
    rows_before = row_counts()
    # when
    response = getattr(api(user), method)(call.path, data, format=call.format)
    if response.streaming:
        b"".join(response.streaming_content)  # consuming it closes the file, as a WSGI server would
    if response.streaming:
        b"".join(response.streaming_content)  # consuming it closes the file, as a WSGI server would
    # then
    assert response.status_code == expected, getattr(response, "data", None)
    if expected >= 400:
        expected_code = ASSIST_ERROR_CODES.get((name, expected)) or ERROR_CODES[expected, role == "anonymous"]
        assert response.json()["code"] == expected_code
        assert row_counts() == rows_before, "a refused request changed the database"


@pytest.mark.django_db
def test_site_superuser_may_create_a_project(api):
    # given
    superuser = UserFactory.create(username="root", is_superuser=True, is_staff=True)
    # when
    response = api(superuser).post("/api/v1/projects/", {"name": "New line", "slug": "new-line"})
    # then
    assert response.status_code == 201
    assert (response.json()["slug"], response.json()["taxonomy_revision"]) == ("new-line", 1)


@pytest.mark.django_db
def test_inspector_lists_only_the_images_assigned_to_them(world, api):
    # when
    inspector_ids = [
        image["id"]
        for image in api(world.team.inspector)
        .get(f"/api/v1/projects/{world.team.project.pk}/images/")
        .json()["results"]
    ]
    senior_ids = [
        image["id"]
        for image in api(world.team.senior).get(f"/api/v1/projects/{world.team.project.pk}/images/").json()["results"]
    ]
    # then
    assert inspector_ids == [world.assigned_image.pk]
    assert senior_ids == [world.assigned_image.pk, world.unassigned_image.pk]


@pytest.mark.django_db
def test_outsider_cannot_tell_a_foreign_id_from_a_missing_one(world, api):
    # given
    foreign = f"/api/v1/images/{world.assigned_image.pk}/"
    missing = f"/api/v1/images/{world.unassigned_image.pk + 1000}/"
    # when
    responses = [api(world.team.outsider).get(path) for path in (foreign, missing)]
    # then
    assert [(response.status_code, response.json()) for response in responses] == [
        (404, {"code": "not_found", "message": "No such image."}),
        (404, {"code": "not_found", "message": "No such image."}),
    ]


@pytest.mark.django_db
def test_inspector_cannot_learn_the_other_annotators_classes_by_filtering(world, api):
    # given: dual annotation; the senior drew a crack on the image both of them label
    world.annotation(OTHERS)
    path = f"/api/v1/projects/{world.team.project.pk}/images/?defect_class={world.team.defect_class.pk}"
    # when
    before_own = api(world.team.inspector).get(path).json()["results"]
    world.annotation(OWN)
    after_own = api(world.team.inspector).get(path).json()["results"]
    by_senior = api(world.team.senior).get(path).json()["results"]
    # then
    assert [image["id"] for image in before_own] == []
    assert [image["id"] for image in after_own] == [world.assigned_image.pk]
    assert [image["id"] for image in by_senior] == [world.assigned_image.pk]
