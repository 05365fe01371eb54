"""The Content-Security-Policy is on every kind of response, and the templates hold nothing it would block.

With `script-src 'self'`, markup injected into a page (a defect class description, a comment) cannot run script;
tests/test_browser_csp.py checks in Chromium that the pages themselves break no rule of it."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from annotation.services.images import assignments_create
from defectlab.csp import policy_header
from qa.models import Adjudication
from qa.tests.factories import annotate, assigned_image, second_inspector, square, submit_all
from tests.factories import UserFactory, image_create

pytestmark = pytest.mark.django_db

POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self'; "
    "img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
TEMPLATE_ROOTS = [Path(settings.BASE_DIR) / app / "templates" for app in ("frontend", "annotation", "datasets", "qa")]


def test_the_policy_allows_no_inline_script_and_no_eval():
    # then
    assert policy_header(settings.CONTENT_SECURITY_POLICY) == POLICY
    assert "unsafe-inline" not in POLICY
    assert "'unsafe-eval'" not in POLICY


@pytest.fixture
def pages(team) -> dict[str, tuple[object, str]]:
    """Every kind of page and response, each with who asks for it (None: anonymous)."""
    image = image_create(project=team.project, seed=1)
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    inspector2 = second_inspector(team)
    disputed = assigned_image(team, team.inspector, inspector2, seed=2)
    annotate(team.inspector, disputed, square(x=10))
    submit_all(disputed, team.inspector, inspector2)
    adjudication = Adjudication.objects.get(agreement__image=disputed)
    site_admin = UserFactory.create(username="root", is_superuser=True, is_staff=True)
    project = team.project.pk
    return {
        "login page": (None, reverse("login")),
        "project list": (team.inspector, reverse("projects-page")),
        "project page": (team.admin, reverse("project-page", args=[project])),
        "upload page": (team.admin, reverse("project-upload-page", args=[project])),
        "editor": (team.inspector, reverse("image-edit-page", args=[image.pk])),
        "my queue": (team.inspector, reverse("queue-page")),
        "QA page": (team.senior, reverse("qa-project-page", args=[project])),
        "adjudication queue": (team.senior, reverse("qa-adjudication-queue-page", args=[project])),
        "adjudication": (team.senior, reverse("qa-adjudication-page", args=[adjudication.pk])),
        "spot checks": (team.senior, reverse("qa-spot-check-page", args=[project])),
        "version list": (team.admin, reverse("version-list-page", args=[project])),
        "Django admin": (site_admin, "/admin/"),
        "Django admin login": (None, "/admin/login/"),
        "API docs": (team.inspector, reverse("api-docs")),
        "API docs script": (team.inspector, reverse("api-docs") + "?script="),
        "API JSON": (team.inspector, "/api/v1/projects/"),
        "API error": (None, "/api/v1/projects/"),
        "page not found": (team.inspector, "/no/such/page/"),
        "permission denied": (team.inspector, reverse("qa-project-page", args=[project])),
        "health check": (None, "/healthz"),
    }


PAGE_NAMES = [
    "login page",
    "project list",
    "project page",
    "upload page",
    "editor",
    "my queue",
    "QA page",
    "adjudication queue",
    "adjudication",
    "spot checks",
    "version list",
    "Django admin",
    "Django admin login",
    "API docs",
    "API docs script",
    "API JSON",
    "API error",
    "page not found",
    "permission denied",
    "health check",
]


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_kind_of_response_carries_the_policy(pages, name):
    # given
    user, path = pages[name]
    client = Client()
    if user is not None:
        client.force_login(user)
    # when
    response = client.get(path)
    # then
    assert response.status_code != 500, name  # /healthz answers 503 here: no worker runs
    assert response["Content-Security-Policy"] == POLICY


def test_the_lock_out_page_carries_the_policy(team):
    # given
    for number in range(5):
        Client().post(reverse("login"), {"username": "admin", "password": f"guess-{number}"})
    # when
    response = Client().post(reverse("login"), {"username": "admin", "password": "pass"})
    # then
    assert (response.status_code, response["Content-Security-Policy"]) == (429, POLICY)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"javascript:", re.IGNORECASE)


def _templates() -> list[Path]:
    return sorted(path for root in TEMPLATE_ROOTS if root.is_dir() for path in root.rglob("*.html"))


@pytest.mark.parametrize("template", _templates(), ids=lambda path: str(path.relative_to(settings.BASE_DIR)))
def test_no_template_holds_what_the_policy_blocks(template):
    # given
    text = template.read_text()
    # then: json_script's <script type="application/json"> is data, not code, and is allowed
    assert INLINE_SCRIPT.findall(text) == [], "inline <script>: move it to frontend/src"
    assert EVENT_HANDLER.findall(text) == [], "inline event handler: attach it from a script file"
    assert STYLE.findall(text) == [], "inline style: use a class in a .css file (or an SVG fill)"
    assert JAVASCRIPT_URL.findall(text) == []


def test_the_editor_is_cross_origin_isolated_and_the_sam_workers_scripts_may_run_in_it(team):
    """SAM's Web Worker runs wasm on 2 threads only in a cross-origin isolated page; a worker of such a page must
    come with Cross-Origin-Embedder-Policy itself (docs/assist.md). Needs the built bundle."""
    image = image_create(project=team.project, seed=3)
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    client = Client()
    client.force_login(team.inspector)
    editor = client.get(f"/images/{image.pk}/edit/")
    assert (editor["Cross-Origin-Opener-Policy"], editor["Cross-Origin-Embedder-Policy"]) == (
        "same-origin",
        "require-corp",
    )
    for name in ("samWorker.js", "ort-wasm-simd-threaded.mjs"):
        script = client.get(f"/editor/sam/{name}")
        assert script.status_code == 200, f"{name}: build the bundle (cd frontend && npm run build)"
        assert script["Content-Type"] == "text/javascript"
        assert script["Cross-Origin-Embedder-Policy"] == "require-corp"
        assert script["Content-Security-Policy"] == POLICY  # a worker runs under its own script's policy
    assert client.get("/editor/sam/..%2Fsettings.py").status_code == 404
    assert client.get("/editor/sam/editor.js").status_code == 404  # only the two scripts that start workers
