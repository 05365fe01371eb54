"""`manage.py sam_install` and the SAM engine behind the assist endpoint: a random-weight MobileSAM (vit_t)
checkpoint is installed for real (verify, copy, ONNX export, parity, record, activate), then answers clicks.
Missing, corrupt and undownloadable checkpoints fail with the admin's sentence and leave the other engines working."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from django.core.management import CommandError, call_command

from annotation.services.images import assignments_create
from assist.engines.sam import MANIFEST_NAME, SamManifest
from assist.models import SamInstallation, Suggestion
from assist.services.sam import EMBEDDINGS_JOB_KIND, SAM_NOT_INSTALLED
from assist.tests.factories import spotted_image_create, square
from defectlab.jobs.services import job_create, job_run

pytestmark = pytest.mark.django_db

TORCH_THREADS = 2  # the machine's cores are shared
SPOT = (40, 30, 12)


@pytest.fixture(scope="session")
def random_vit_t(tmp_path_factory) -> Path:
    """A MobileSAM checkpoint with random weights: not an official file (sha256 unknown), loads and exports."""
    from mobile_sam import sam_model_registry  # type: ignore[import-untyped]

    torch.set_num_threads(TORCH_THREADS)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("checkpoint") / "mobile_sam_random.pt"
    torch.save(sam_model_registry["vit_t"](checkpoint=None).state_dict(), path)
    return path


@pytest.fixture
def sam_dirs(settings, tmp_path) -> Path:
    settings.DEFECTLAB_SAM_DIR = tmp_path / "sam"
    settings.DEFECTLAB_SAM_EMBEDDING_CACHE_DIR = tmp_path / "embeddings"
    return tmp_path


@pytest.fixture
def image(team):
    image = spotted_image_create(project=team.project, spots=[SPOT])
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.senior)
    return image


def engines(api, team) -> dict:
    response = api(team.inspector).get(f"/api/v1/projects/{team.project.pk}/assist/engines/")
    assert response.status_code == 200, response.json()
    return response.json()


def click(api, team, image, point, **extra):
    body = {"prompt": {"defect_class_id": team.defect_class.pk, "positive_clicks": [point]}, **extra}
    return api(team.inspector).post(f"/api/v1/images/{image.pk}/assist/", body, format="json")


def record_browser_answer(api, team, image, **extra):
    body = {
        "engine": "sam",
        "prompt": {"defect_class_id": team.defect_class.pk, "positive_clicks": [[45, 35]]},
        "score": 0.7,
        **extra,
    }
    return api(team.inspector).post(f"/api/v1/images/{image.pk}/assist/record/", body, format="json")


def install(path: Path | str, *arguments: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("sam_install", str(path), *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_before_install_the_engines_list_says_sam_is_unavailable_and_why(team, api, sam_dirs, image):
    body = engines(api, team)
    assert body["preferred"] == "classical"
    assert [engine["name"] for engine in body["engines"]] == ["classical"]
    assert [item["name"] for item in body["unavailable"]] == ["sam"]
    assert "sam_install" in body["unavailable"][0]["reason"]
    # and the browser's share of SAM answers so too
    response = api(team.inspector).get(f"/api/v1/images/{image.pk}/embedding/")
    assert (response.status_code, response.json()["code"]) == (409, "sam_not_installed")
    assert api(team.inspector).get("/api/v1/assist/sam/decoder.onnx").status_code == 409


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "missing"), (b"not a checkpoint at all", "damaged")],
    ids=["missing", "corrupt"],
)
def test_a_missing_or_corrupt_checkpoint_is_refused_clearly_and_classical_still_answers(
    team, api, sam_dirs, image, content, reason
):
    # given
    path = sam_dirs / "mobile_sam.pt"
    if content is not None:
        path.write_bytes(content)
    # when
    with pytest.raises(CommandError) as refused:
        install(path, "--model-type", "vit_t")
    # then: the admin reads why; nothing is installed; the other engines work
    assert f"SAM not installed ({reason})" in str(refused.value)
    assert "mobile_sam.pt" in str(refused.value)
    assert not SamInstallation.objects.exists()
    assert not (sam_dirs / "sam" / MANIFEST_NAME).exists()
    assert engines(api, team)["preferred"] == "classical"
    response = click(api, team, image, [45, 35])
    assert response.status_code == 200, response.json()
    assert response.json()["engine"] == "classical"


def test_a_download_without_internet_fails_with_the_checkpoint_error(sam_dirs):
    with pytest.raises(CommandError) as refused:
        call_command("sam_install", "--download", "vit_t", "--url", "http://127.0.0.1:9/mobile_sam.pt")
    assert "SAM not installed (" in str(refused.value)
    assert "mobile_sam.pt" in str(refused.value)
    assert not SamInstallation.objects.exists()


def test_install_records_the_checkpoint_and_sam_answers_clicks_with_a_cached_embedding(
    team, api, sam_dirs, image, random_vit_t, client, django_user_model
):
    # when
    out, err = install(random_vit_t, "--model-type", "vit_t")
    # then: recorded, active, unofficial with the printed warning, parity within bounds
    installation = SamInstallation.objects.get()
    assert installation.is_active
    assert not installation.is_official
    assert installation.model_id.startswith("vit_t-")
    assert "Warning:" in err
    assert "not the official" in err
    assert f"Installed SAM {installation.model_id}" in out
    assert installation.report["export"]["is_within_bounds"] is True
    for name in ("checkpoint", "encoder", "decoder", "decoder_int8"):
        assert Path(installation.files[name]).is_file()
        assert Path(installation.files[name]).is_relative_to(sam_dirs / "sam")
    manifest = SamManifest.read(sam_dirs / "sam")
    assert manifest is not None
    assert manifest.model_id == installation.model_id
    # the engines list prefers SAM now; classical stays
    body = engines(api, team)
    assert body["preferred"] == "sam"
    assert [engine["name"] for engine in body["engines"]] == ["sam", "classical"]
    assert body["unavailable"] == []
    # the embeddings job embeds the image once; again, it finds it cached
    first = job_run(
        job_id=job_create(
            kind=EMBEDDINGS_JOB_KIND, project=team.project, created_by=None, params={"image_ids": [image.pk]}
        ).pk
    )
    assert (first.status, first.result["embedded"], first.result["cached"]) == ("succeeded", 1, 0), first.error
    again = job_run(
        job_id=job_create(
            kind=EMBEDDINGS_JOB_KIND, project=team.project, created_by=None, params={"image_ids": [image.pk]}
        ).pk
    )
    assert (again.result["embedded"], again.result["cached"]) == (0, 1)
    # a click answers SAM's mask, inside the image (random weights: its shape says nothing)
    response = click(api, team, image, [45, 35])
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["engine"] == "sam"
    if answer["bbox"] is not None:
        x, y, width, height = answer["bbox"]
        assert 0 <= x
        assert 0 <= y
        assert x + width <= image.width
        assert y + height <= image.height
    # the admin page lists it with its report; an inspector does not get in
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pass"))
    listing = client.get("/admin/assist/saminstallation/")
    assert listing.status_code == 200
    assert installation.model_id in listing.content.decode()
    page = client.get(f"/admin/assist/saminstallation/{installation.pk}/change/").content.decode()
    assert "decoder_int8_mask_agreement" in page
    assert "SAM answers the editor&#x27;s assist tools" in page
    client.force_login(team.inspector)
    assert client.get("/admin/assist/saminstallation/").status_code == 302  # to the admin's login
    # the classical engine can still be asked by name
    assert click(api, team, image, [45, 35], engine="classical").json()["engine"] == "classical"
    # an answer the browser decoded is recorded as the server's are; the next names the one it replaces
    recorded = record_browser_answer(api, team, image, geometry=square(x=40, y=30, side=10))
    assert recorded.status_code == 201, recorded.json()
    first = Suggestion.objects.get(pk=recorded.json()["suggestion_id"])
    assert (first.engine, first.origin, first.vertex_count, first.requested_by) == ("sam", "assist", 4, team.inspector)
    assert first.prompt["positive_clicks"] == [[45.0, 35.0]]
    nothing = record_browser_answer(api, team, image, geometry=None, replaces_suggestion_id=first.pk)
    assert nothing.json() == {"suggestion_id": None, "vertex_count": 0}
    first.refresh_from_db()
    assert first.is_superseded
    # and an outline the annotation API would refuse is refused here (400, not 500)
    hostile = {"polygons": [{"exterior": [[0, 0], [1e9, 0], [0, 1]]}]}
    assert record_browser_answer(api, team, image, geometry=hostile).status_code == 400


def test_a_region_is_embedded_alone_and_a_prompt_outside_it_is_refused(team, api, sam_dirs, image, random_vit_t):
    # given
    install(random_vit_t, "--model-type", "vit_t")
    region = [30, 20, 40, 30]
    # when
    inside = click(api, team, image, [45, 35], region=region)
    outside = click(api, team, image, [100, 80], region=region)
    leaving = click(api, team, image, [45, 35], region=[100, 80, 40, 30])
    # then
    assert inside.status_code == 200, inside.json()
    assert inside.json()["engine"] == "sam"
    files = sorted(path.name for path in (sam_dirs / "embeddings").rglob("*.npy"))
    assert files == [f"{image.sha256}_30_20_40_30.npy"]
    assert (outside.status_code, leaving.status_code) == (400, 400)
    # the browser gets the same cached embedding, as fp16 .npy, immutable when it names the model
    model_id = SamInstallation.objects.get().model_id
    url = f"/api/v1/images/{image.pk}/embedding/?region=30,20,40,30&model={model_id}"
    response = api(team.inspector).get(url)
    assert response.status_code == 200
    array = np.load(io.BytesIO(response.content), allow_pickle=False)
    assert (array.dtype, array.shape) == (np.float16, (1, 256, 64, 64))
    cached = next((sam_dirs / "embeddings").rglob("*.npy"))
    assert np.array_equal(array, np.load(cached))
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response["X-Sam-Model"] == model_id
    assert api(team.outsider).get(url).status_code == 404
    assert api(team.inspector).get(f"/api/v1/images/{image.pk}/embedding/?model=vit_t-000000000000").status_code == 404
    assert api(team.inspector).get(f"/api/v1/images/{image.pk}/embedding/?region=100,80,40,30").status_code == 400
    decoder = api(team.inspector).get(f"/api/v1/assist/sam/decoder.onnx?model={model_id}")
    assert decoder.status_code == 200
    int8_path = Path(SamInstallation.objects.get().files["decoder_int8"])
    assert b"".join(decoder.streaming_content) == int8_path.read_bytes()
    if inside.json()["bbox"] is not None:
        x, y, width, height = inside.json()["bbox"]
        assert 30 <= x
        assert 20 <= y
        assert x + width <= 70
        assert y + height <= 50


def test_the_embeddings_job_without_sam_says_so(team, sam_dirs, image):
    job = job_run(
        job_id=job_create(
            kind=EMBEDDINGS_JOB_KIND, project=team.project, created_by=None, params={"image_ids": [image.pk]}
        ).pk
    )
    assert job.status == "succeeded"
    assert job.result["message"] == SAM_NOT_INSTALLED
    assert json.dumps(job.result)  # JSON, as the jobs API shows it
