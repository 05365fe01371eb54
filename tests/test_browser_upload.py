"""The upload page in Chromium: progress bar, worker import, per-file rejections shown by name."""

import pytest

from annotation.models import Image
from conftest import ARTIFACTS
from tests.factories import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_admin_uploads_images_and_sees_the_result(celery_worker_process, team, logged_in_page, live_server, tmp_path):
    # given
    good, bad = tmp_path / "good-part.png", tmp_path / "not-an-image.jpg"
    good.write_bytes(png_bytes(80, 60, seed=5))
    bad.write_bytes(b"this is a text file pretending to be a JPEG")
    page = logged_in_page("admin")
    page.goto(f"{live_server.url}/projects/{team.project.pk}/upload/")
    # when
    page.set_input_files("#files", [str(good), str(bad)])
    page.click("#upload-button")
    page.wait_for_function("document.getElementById('upload-phase').textContent === 'Import finished.'", timeout=60_000)
    # then
    page.screenshot(path=str(ARTIFACTS / "upload-finished.png"), full_page=True)
    assert page.eval_on_selector("#upload-progress", "element => element.value") == 100
    assert "1 imported, 0 duplicates" in page.text_content("#upload-summary")
    assert page.text_content("#upload-rejected") == (
        "not-an-image.jpg: not an image file (the content matches no accepted format)"
    )
    assert list(Image.objects.filter(project=team.project).values_list("original_filename", flat=True)) == [
        "good-part.png"
    ]
    page.goto(f"{live_server.url}/projects/{team.project.pk}/")
    page.screenshot(path=str(ARTIFACTS / "project-page.png"), full_page=True)
    assert page.locator(".tile").count() == 1
