"""The annotation editor in Chromium: drawing, the brush's holes, undo/redo, the live and server size rules,
crash recovery from the local draft, and the conflict view when two people edit one defect.

Needs the built bundle: (cd frontend && npm install && npm run build)."""

from pathlib import Path

import pytest

from annotation.models import Annotation
from annotation.services.annotations import annotation_create
from annotation.services.images import assignments_create
from conftest import ARTIFACTS
from tests.factories import DefectClassFactory, SeverityLevelFactory, image_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUNDLE = Path(__file__).resolve().parent.parent / "frontend" / "static" / "frontend" / "build" / "editor.js"
SAVE_TIMEOUT_MS = 15_000


@pytest.fixture(autouse=True)
def _bundle_built():
    if not BUNDLE.exists():
        pytest.fail(
            f"The editor bundle {BUNDLE} is missing: build it with (cd frontend && npm install && npm run build)"
        )


@pytest.fixture
def assigned_image(team):
    image = image_create(project=team.project, width=200, height=150, seed=11, name="casting-11.png")
    for user in (team.inspector, team.senior, team.admin):
        assignments_create(project=team.project, image_ids=[image.pk], annotator=user, assigned_by=team.admin)
    return image


def editor_open(page, live_server, image):
    page.goto(f"{live_server.url}/images/{image.pk}/edit/")
    page.wait_for_selector("#editor-root[data-state=ready]")
    page.wait_for_function("window.defectlab.editor.image.firstPaintAt !== null")


def screen(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of the image pixel centre (x, y) in the current view."""
    return tuple(
        page.evaluate(
            """([x, y]) => {
                const [sx, sy] = window.defectlab.editor.view.vertexToScreen([x, y]);
                const box = document.getElementById("overlay-layer").getBoundingClientRect();
                return [box.left + sx, box.top + sy];
            }""",
            [x, y],
        )
    )


def wait_saved(page):
    page.wait_for_selector("#save-status[data-state=saved]", timeout=SAVE_TIMEOUT_MS)


def drag(page, points: list[tuple[float, float]]):
    page.mouse.move(*screen(page, *points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*screen(page, *point))
    page.mouse.up()


def test_draw_a_polygon_pick_class_and_severity_and_it_is_there_after_reload(
    team, assigned_image, logged_in_page, live_server
):
    # given
    scratch = DefectClassFactory.create(project=team.project, name="scratch", color="#3cb44b", position=1)
    deep = SeverityLevelFactory.create(defect_class=scratch, name="deep", rank=2)
    SeverityLevelFactory.create(defect_class=scratch, name="shallow", rank=1)
    page = logged_in_page("inspector")
    editor_open(page, live_server, assigned_image)
    # when: polygon tool, four clicks, Enter; then the class and severity pickers
    page.keyboard.press("p")
    for vertex in [(40, 30), (120, 35), (110, 100), (45, 90)]:
        page.mouse.click(*screen(page, *vertex))
    page.keyboard.press("Enter")
    page.click(f".class-choice[data-class-id='{scratch.pk}']")
    page.click(f".severity-choice[data-severity-id='{deep.pk}']")
    wait_saved(page)
    page.reload()
    page.wait_for_selector("#editor-root[data-state=ready]")
    # then
    page.screenshot(path=str(ARTIFACTS / "editor-polygon-after-reload.png"))
    annotation = Annotation.objects.get(image=assigned_image)
    assert (annotation.defect_class_id, annotation.severity_id) == (scratch.pk, deep.pk)
    assert annotation.geometry == {"polygons": [{"exterior": [[40, 30], [120, 35], [110, 100], [45, 90]], "holes": []}]}
    assert page.locator(".defect-row").count() == 1
    assert "scratch · deep" in page.text_content(".defect-row")
    # and My queue lists the image as in progress, linking back to the editor
    page.goto(f"{live_server.url}/queue/")
    page.wait_for_selector(".queue-item")
    link = page.get_attribute(".queue-item.status-in_progress a.queue-open", "href")
    assert link == f"/images/{assigned_image.pk}/edit/"
    page.screenshot(path=str(ARTIFACTS / "editor-my-queue.png"), full_page=True)


def test_brushing_a_ring_is_stored_as_a_polygon_with_a_hole(team, assigned_image, logged_in_page, live_server):
    # given
    page = logged_in_page("inspector")
    editor_open(page, live_server, assigned_image)
    # when: one brush stroke round a circle of radius 30 (the brush is 12 px wide)
    page.keyboard.press("b")
    circle = [(100 + 30 * cos, 75 + 30 * sin) for cos, sin in _unit_circle(48)]
    drag(page, [*circle, circle[0], circle[1]])
    wait_saved(page)
    # then
    page.screenshot(path=str(ARTIFACTS / "editor-brush-hole.png"))
    annotation = Annotation.objects.get(image=assigned_image)
    polygons = annotation.geometry["polygons"]
    assert len(polygons) == 1
    assert len(polygons[0]["holes"]) == 1
    # the editor measured the same rasterised pixels the server stored
    client_area = page.evaluate(
        "window.defectlab.editor.taxonomy.check([...window.defectlab.editor.store.snapshot.defects.values()][0]).measurement.areaPx"
    )
    assert client_area == annotation.area_px


def test_undo_and_redo_reach_the_server(team, assigned_image, logged_in_page, live_server):
    # given: a rectangle drawn and saved
    page = logged_in_page("inspector")
    editor_open(page, live_server, assigned_image)
    page.keyboard.press("r")
    drag(page, [(20, 20), (60, 50), (80, 70)])
    wait_saved(page)
    assert Annotation.objects.filter(image=assigned_image).count() == 1
    # when / then: undo deletes it on the server, redo brings it back
    page.keyboard.press("Control+z")
    page.wait_for_function("window.defectlab.editor.store.snapshot.defects.size === 0")
    wait_saved(page)
    assert Annotation.objects.filter(image=assigned_image).count() == 0
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function("window.defectlab.editor.store.snapshot.defects.size === 1")
    wait_saved(page)
    annotation = Annotation.objects.get(image=assigned_image)
    assert annotation.geometry["polygons"][0]["exterior"] == [[20, 20], [80, 20], [80, 70], [20, 70]]
    page.screenshot(path=str(ARTIFACTS / "editor-undo-redo.png"))


def test_a_too_small_defect_is_refused_with_the_rule_shown(team, assigned_image, logged_in_page, live_server):
    # given: crack needs at least 400 px²
    team.defect_class.min_area_px = 400
    team.defect_class.save()
    page = logged_in_page("inspector")
    editor_open(page, live_server, assigned_image)
    # when: a 6 x 6 px rectangle (36 px²)
    page.keyboard.press("r")
    drag(page, [(50, 50), (55, 55)])
    # then: marked live, and refused by the server with its reasons
    page.wait_for_selector(".too-small")
    assert "area 36 px² is below the minimum 400 px²" in page.text_content(".too-small")
    page.wait_for_selector(".refused", timeout=SAVE_TIMEOUT_MS)
    assert page.text_content(".refused") == "Not saved: Too small for crack: area 36 px² is below the minimum 400 px²."
    page.screenshot(path=str(ARTIFACTS / "editor-too-small.png"))
    assert Annotation.objects.filter(image=assigned_image).count() == 0


def test_a_crash_mid_edit_is_recovered_from_the_local_draft(team, assigned_image, logged_in_page, live_server):
    # given: the server cannot be reached while drawing
    page = logged_in_page("inspector")
    editor_open(page, live_server, assigned_image)
    page.route("**/api/v1/images/*/annotations/", lambda route: route.abort())
    page.keyboard.press("r")
    drag(page, [(30, 30), (90, 80)])
    page.wait_for_selector("#save-status[data-state=offline]", timeout=SAVE_TIMEOUT_MS)
    page.wait_for_function("document.body.dataset.draftWrittenAt !== undefined")
    # when: the tab dies without saving, and the image is opened again
    page.close(run_before_unload=False)
    assert Annotation.objects.filter(image=assigned_image).count() == 0
    reopened = page.context.new_page()
    editor_open(reopened, live_server, assigned_image)
    # then
    wait_saved(reopened)
    reopened.screenshot(path=str(ARTIFACTS / "editor-draft-recovered.png"))
    assert "Recovered 1 unsaved change" in reopened.text_content("#notice")
    annotation = Annotation.objects.get(image=assigned_image)
    assert annotation.geometry["polygons"][0]["exterior"] == [[30, 30], [90, 30], [90, 80], [30, 80]]


def test_two_people_edit_one_defect_and_the_second_gets_the_conflict_view(
    team, assigned_image, logged_in_page, live_server
):
    # given: a defect, open in two browsers (senior and admin may both edit it)
    annotation = annotation_create(
        user=team.senior,
        image_id=assigned_image.pk,
        defect_class_id=team.defect_class.pk,
        geometry_data={"polygons": [{"exterior": [[60, 40], [120, 40], [120, 100], [60, 100]], "holes": []}]},
    )
    first, second = logged_in_page("senior"), logged_in_page("admin")
    for page in (first, second):
        editor_open(page, live_server, assigned_image)
        page.mouse.click(*screen(page, 90, 70))  # select it
    # when: the first moves it right and saves; the second, still on revision 1, moves it down
    first.keyboard.press("ArrowRight")
    wait_saved(first)
    second.keyboard.press("ArrowDown")
    # then: the second sees both versions and nothing was overwritten
    second.wait_for_selector("#conflict-dialog[open]", timeout=SAVE_TIMEOUT_MS)
    second.screenshot(path=str(ARTIFACTS / "editor-conflict.png"))
    assert "Saved by someone else" in second.text_content("#conflict-dialog")
    annotation.refresh_from_db()
    assert annotation.revision == 2
    assert annotation.geometry["polygons"][0]["exterior"][0] == [61, 40]
    # and choosing "Keep mine" saves it knowingly over revision 2
    second.click("#conflict-keep-mine")
    wait_saved(second)
    annotation.refresh_from_db()
    assert (annotation.revision, annotation.geometry["polygons"][0]["exterior"][0]) == (3, [60, 41])


def _unit_circle(steps: int) -> list[tuple[float, float]]:
    import math

    return [(math.cos(2 * math.pi * step / steps), math.sin(2 * math.pi * step / steps)) for step in range(steps)]


def test_no_defect_key_then_submit_opens_the_next_image_at_once(team, assigned_image, logged_in_page, live_server):
    # given: a second image in the inspector's queue
    second = image_create(project=team.project, width=120, height=90, seed=12, name="casting-12.png")
    assignments_create(project=team.project, image_ids=[second.pk], annotator=team.inspector, assigned_by=team.admin)
    page = logged_in_page("inspector")
    editor_open(page, live_server, assigned_image)
    # when: N records "no defect", Ctrl+Enter submits
    page.keyboard.press("n")
    page.wait_for_selector("#defect-free-button[aria-pressed=true]")
    page.keyboard.press("Control+Enter")
    # then: the next image opens in place
    page.wait_for_url(f"{live_server.url}/images/{second.pk}/edit/")
    page.wait_for_selector(f"#editor-root[data-image-id='{second.pk}'][data-state=ready]")
    page.screenshot(path=str(ARTIFACTS / "editor-next-image.png"))
    assigned_image.refresh_from_db()
    assert assigned_image.is_defect_free is True
    assert assigned_image.assignments.get(annotator=team.inspector).status == "submitted"
