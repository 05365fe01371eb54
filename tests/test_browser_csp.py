"""Every page under the Content-Security-Policy in Chromium: nothing the pages need is blocked.

Chromium reports each blocked script, style, image or worker on the console ("Refused to ... because it violates
the following Content Security Policy directive"); a page that works under the policy reports none."""

import pytest

from annotation.services.images import assignments_create
from conftest import ARTIFACTS
from tests.factories import UserFactory, image_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SETTLE_MS = 500  # after the network is idle: the editor paints and its panels fill in


@pytest.fixture
def enforcing_page(browser, live_server):
    """page_for(username or None) -> a page in a context that enforces the policy (conftest's logged_in_page
    bypasses it for the other browser tests), logged in through the login form unless None."""
    contexts = []

    def page_for(username: str | None):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        if username is not None:
            page.goto(f"{live_server.url}/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", "pass")
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/")
        return page

    yield page_for
    for context in contexts:
        context.close()


def violations_on(page, url: str, *, ready: str | None = None) -> list[str]:
    messages: list[str] = []

    def record(message) -> None:
        if "Content Security Policy" in message.text:
            messages.append(message.text)

    page.on("console", record)
    page.on("pageerror", lambda error: messages.append(f"page error: {error}"))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    if ready:
        page.wait_for_selector(ready, timeout=15_000)
    page.wait_for_timeout(SETTLE_MS)
    page.remove_listener("console", record)
    return messages


def test_the_pages_break_no_rule_of_the_policy(team, enforcing_page, live_server):
    # given
    image = image_create(project=team.project, seed=1, name="tile-0001.png")
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.admin, assigned_by=team.admin)
    UserFactory.create(username="root", is_superuser=True, is_staff=True)
    project = team.project.pk
    pages = {
        "project list": ("/", None),
        "project page": (f"/projects/{project}/", ".swatch"),
        "upload page": (f"/projects/{project}/upload/", None),
        "editor": (f"/images/{image.pk}/edit/", "#class-list .swatch"),
        "my queue": ("/queue/", None),
        "QA page": (f"/projects/{project}/qa/", None),
        "adjudication queue": (f"/projects/{project}/qa/adjudications/", None),
        "spot checks": (f"/projects/{project}/qa/spot-checks/", None),
        "version list": (f"/projects/{project}/versions/", None),
        "label next": (f"/projects/{project}/label-next/", None),
        "label-error review": (f"/projects/{project}/label-errors/", None),
        "API docs": ("/api/docs/", ".swagger-ui .info"),
    }
    page = enforcing_page("admin")
    # when
    found = {name: violations_on(page, live_server.url + path, ready=ready) for name, (path, ready) in pages.items()}
    page.goto(f"{live_server.url}/images/{image.pk}/edit/")
    page.wait_for_selector("#class-list .swatch")
    page.screenshot(path=str(ARTIFACTS / "csp-editor.png"))
    swatch_colour = page.eval_on_selector("#class-list .swatch", "element => getComputedStyle(element).backgroundColor")
    site_admin = enforcing_page("root")
    found["Django admin"] = violations_on(site_admin, f"{live_server.url}/admin/")
    found["Django admin user"] = violations_on(
        site_admin, f"{live_server.url}/admin/auth/user/{team.inspector.pk}/change/"
    )
    found["login page"] = violations_on(enforcing_page(None), f"{live_server.url}/login/")
    # then
    assert {name: messages for name, messages in found.items() if messages} == {}
    assert swatch_colour == "rgb(230, 25, 75)"  # the class colour, set from the script through the CSSOM
