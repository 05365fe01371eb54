"""The editor's other tools in Chromium: the eraser and brush size, vertex insert and delete, the comment thread,
the minimap of a large image and a two-finger pinch.

Needs the built bundle: (cd frontend && npm install && npm run build)."""

import pytest

from annotation.models import Annotation, ImageComment
from annotation.services.annotations import annotation_create
from annotation.services.images import assignments_create
from conftest import ARTIFACTS
from tests.factories import image_create
from tests.test_browser_editor import BUNDLE, drag, editor_open, screen, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _bundle_built():
    if not BUNDLE.exists():
        pytest.fail(f"The editor bundle {BUNDLE} is missing: build it with (cd frontend && npm run build)")


@pytest.fixture
def assigned_image(team):
    image = image_create(project=team.project, width=200, height=150, seed=21, name="casting-21.png")
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    return image


def square_for(team, image, exterior) -> Annotation:
    return annotation_create(
        user=team.inspector,
        image_id=image.pk,
        defect_class_id=team.defect_class.pk,
        geometry_data={"polygons": [{"exterior": exterior, "holes": []}]},
    )


def test_the_eraser_cuts_a_defect_in_two_and_brackets_size_the_brush(team, assigned_image, logged_in_page, live_server):
    # given: a 160 x 30 px band
    annotation = square_for(team, assigned_image, [[20, 60], [179, 60], [179, 89], [20, 89]])
    page = logged_in_page("inspector")
    editor_open(page, live_server, assigned_image)
    # when: the eraser, made larger with ], crosses the band top to bottom
    page.keyboard.press("e")
    size_before = page.text_content("#brush-size")
    page.keyboard.press("]")
    assert page.text_content("#brush-size") != size_before
    page.keyboard.press("[")
    assert page.text_content("#brush-size") == size_before
    page.keyboard.press("]")
    drag(page, [(100, 40), (100, 75), (100, 110)])
    wait_saved(page)
    # then: two parts, both left of and right of the cut, under the same annotation
    page.screenshot(path=str(ARTIFACTS / "editor-eraser.png"))
    annotation.refresh_from_db()
    polygons = annotation.geometry["polygons"]
    assert len(polygons) == 2
    sides = sorted(max(x for x, _ in polygon["exterior"]) < 100 for polygon in polygons)
    assert sides == [False, True]
    assert annotation.area_px < 160 * 30
    assert annotation.revision == 2


def test_dragging_an_edge_inserts_a_vertex_and_alt_click_deletes_it(team, assigned_image, logged_in_page, live_server):
    # given: a selected square
    annotation = square_for(team, assigned_image, [[40, 40], [120, 40], [120, 120], [40, 120]])
    page = logged_in_page("inspector")
    editor_open(page, live_server, assigned_image)
    page.keyboard.press("v")
    page.mouse.click(*screen(page, 80, 80))
    # when: the top edge is pulled up at its middle
    drag(page, [(80, 40), (80, 30), (80, 20)])
    wait_saved(page)
    # then: a fifth vertex where the edge was let go
    annotation.refresh_from_db()
    assert annotation.geometry["polygons"][0]["exterior"] == [[40, 40], [80, 20], [120, 40], [120, 120], [40, 120]]
    page.screenshot(path=str(ARTIFACTS / "editor-vertex-inserted.png"))
    # when: Alt+click on that vertex
    page.keyboard.down("Alt")
    page.mouse.click(*screen(page, 80, 20))
    page.keyboard.up("Alt")
    page.wait_for_function(
        "[...window.defectlab.editor.store.snapshot.defects.values()][0].geometry.polygons[0].exterior.length === 4"
    )
    wait_saved(page)
    # then
    annotation.refresh_from_db()
    assert annotation.geometry["polygons"][0]["exterior"] == [[40, 40], [120, 40], [120, 120], [40, 120]]
    assert annotation.revision == 3


def test_a_comment_is_posted_to_the_image_and_shown_to_the_next_reader(
    team, assigned_image, logged_in_page, live_server
):
    # given
    page = logged_in_page("inspector")
    editor_open(page, live_server, assigned_image)
    # when
    page.fill("#comment-text", "Edge chipped before the press? Check the die.")
    page.click("#comment-form button[type=submit]")
    page.wait_for_selector("#comment-list .comment")
    # then: stored with its author, and a senior opening the image reads it
    comment = ImageComment.objects.get(image=assigned_image)
    assert (comment.author, comment.text) == (team.inspector, "Edge chipped before the press? Check the die.")
    assert page.input_value("#comment-text") == ""
    reader = logged_in_page("senior")
    editor_open(reader, live_server, assigned_image)
    reader.wait_for_selector("#comment-list .comment")
    assert "Edge chipped before the press?" in reader.text_content("#comment-list")
    assert "inspector" in reader.text_content("#comment-list .comment strong")
    reader.screenshot(path=str(ARTIFACTS / "editor-comments.png"))


def visible_centre(page) -> tuple[float, float]:
    box = page.evaluate("window.defectlab.editor.view.visible()")
    return (box["minX"] + box["maxX"]) / 2, (box["minY"] + box["maxY"]) / 2


def test_the_minimap_of_a_line_scan_moves_the_view_where_it_is_clicked(team, logged_in_page, live_server):
    # given: a 4,096 x 1,024 line scan (served as a tile pyramid), zoomed in 1:1
    image = image_create(project=team.project, width=4096, height=1024, seed=22, name="line-scan.png")
    assert image.pyramid, "a long image is ingested with a tile pyramid"
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    page = logged_in_page("inspector")
    editor_open(page, live_server, image)
    page.wait_for_selector("#minimap:not([hidden])")
    page.wait_for_function("window.defectlab.editor.image.overview() !== null")  # the minimap shows the image
    page.click("#one-to-one-button")
    assert abs(visible_centre(page)[0] - 2048) < 5
    # when: a click near the right end of the minimap
    box = page.locator("#minimap").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.5)
    # then: the view is centred about 90% of the way along the image
    page.screenshot(path=str(ARTIFACTS / "editor-minimap.png"))
    centre_x, _ = visible_centre(page)
    assert abs(centre_x - 0.9 * 4096) < 4096 * 0.02


def test_a_two_finger_pinch_zooms_the_view(team, assigned_image, logged_in_page, live_server):
    # given
    page = logged_in_page("inspector")
    editor_open(page, live_server, assigned_image)
    scale_before = page.evaluate("window.defectlab.editor.view.scale")
    box = page.locator("#overlay-layer").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    session = page.context.new_cdp_session(page)
    session.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 2})

    def touch(kind: str, spread: float) -> None:
        fingers = [{"x": cx - spread, "y": cy, "id": 1}, {"x": cx + spread, "y": cy, "id": 2}]
        points = [] if kind == "touchEnd" else fingers
        session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    # when: two fingers move apart from 40 px to 160 px
    touch("touchStart", 20)
    for spread in range(30, 90, 10):
        touch("touchMove", spread)
    touch("touchEnd", 0)
    # then: about four times larger, still centred where the fingers were
    scale_after = page.evaluate("window.defectlab.editor.view.scale")
    assert scale_after / scale_before == pytest.approx(4, rel=0.1)
    page.screenshot(path=str(ARTIFACTS / "editor-pinch.png"))
