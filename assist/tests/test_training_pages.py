"""The training run and model pages: for the roles that see models (assist/permissions.py), 404 elsewhere."""

import pytest

from annotation.models import Image, ImageStatus
from assist.job_kinds import TRAINING_JOB_KIND
from assist.models import TrainedModel, TrainingRun
from assist.tests.factories import spotted_image_create
from datasets.services.versions import FreezeOptions, dataset_version_freeze
from defectlab.jobs.services import job_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(team) -> TrainingRun:
    """A finished run's rows (the pages read the rest through the API)."""
    image = spotted_image_create(project=team.project, spots=[(20, 20, 10)], name="part.png")
    Image.objects.filter(pk=image.pk).update(status=ImageStatus.FINAL, is_defect_free=True)
    version = dataset_version_freeze(
        project=team.project,
        name="v1",
        created_by=None,
        options=FreezeOptions(split_ratios=(("train", 1.0), ("val", 0.0), ("test", 0.0))),
    )
    job = job_create(kind=TRAINING_JOB_KIND, project=team.project, created_by=team.admin)
    run = TrainingRun.objects.create(
        project=team.project,
        dataset_version=version,
        content_hash=version.content_hash,
        recipe={"name": "unet-lite0"},
        seed=0,
        code_version="test",
        job=job,
        created_by=team.admin,
    )
    TrainedModel.objects.create(
        project=team.project,
        run=run,
        defect_classes=[team.defect_class.name],
        metrics={},
        validation_metrics={},
        decision={},
        parity={},
        files={},
    )
    return run


@pytest.mark.parametrize("page", ["run", "model"])
@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("senior", 200), ("ml_engineer", 200), ("inspector", 403), ("outsider", 404)],
)
def test_the_pages_are_for_the_roles_that_see_models(team, client, run, page, role, status):
    client.force_login(team.member(role))
    path = f"training-runs/{run.pk}" if page == "run" else f"models/{run.trained_model.pk}"
    response = client.get(f"/projects/{team.project.pk}/{path}/")
    assert response.status_code == status
    if status == 403:
        assert "may not view models in this project" in response.content.decode()


def test_only_an_admin_sees_the_promote_button(team, client, run):
    for role, shown in [("admin", True), ("ml_engineer", False)]:
        client.force_login(team.member(role))
        response = client.get(f"/projects/{team.project.pk}/models/{run.trained_model.pk}/")
        assert response.context["can_promote"] is shown


def test_a_run_under_another_projects_address_is_not_found(team, client, run):
    # given: the outsider administers another project
    other = team.outsider.memberships.get().project_id
    client.force_login(team.outsider)
    # then: this project's run is not found under their project's address, nor under its own
    assert client.get(f"/projects/{other}/training-runs/{run.pk}/").status_code == 404
    assert client.get(f"/projects/{team.project.pk}/training-runs/{run.pk}/").status_code == 404
