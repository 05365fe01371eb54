"""The assist's rows of the API role matrix (tests/test_role_matrix.py adds them to its own): who may ask an
engine, decide pre-labels, start pre-label jobs, read the assist statistics, and use label next and label-error
review (409 no_promoted_model for the roles that may start their jobs: no model is promoted here). Builders
receive that module's World (the team and two noise images, one assigned to every labelling role).

Pre-labels answer 409 no_prelabel_engine to the roles that may start them: this server has only the classical
engine, which needs a box (tests/test_assist_prelabel_worker.py runs one with an engine that can)."""

from dataclasses import dataclass

from annotation.geometry import polygons_from_json
from annotation.models import Image, ImageStatus
from assist.job_kinds import TRAINING_JOB_KIND
from assist.models import (
    ImageVisit,
    LabelErrorScore,
    LabelNextScore,
    Suggestion,
    SuggestionDecision,
    SuggestionOrigin,
    TrainedModel,
    TrainingRun,
)
from assist.services.assist import suggestion_shape
from datasets.services.versions import FreezeOptions, dataset_version_freeze
from defectlab.jobs.models import Job
from defectlab.jobs.services import job_create

ASSIGNED, UNASSIGNED = "assigned", "unassigned"  # as tests/test_role_matrix.py names them


def _assist_record(variant: str):
    """An answer the browser decoded, recorded: SAM is not installed here, so a role allowed to draw gets 400."""
    return lambda world: Call(
        f"/api/v1/images/{_image(world, variant).pk}/assist/record/",
        {
            "engine": "sam",
            "prompt": {"defect_class_id": world.team.defect_class.pk, "box": [10, 10, 30, 30]},
            "score": 0.9,
            "geometry": None,
        },
    )


# fmt: off
#  url name                     method    variant        anon insp senior  ml  admin outsider
ASSIST_EXPECTED_STATUS = [
    ("assist-run",              "post",   ASSIGNED,      401, 200, 200, 403, 200, 404),
    ("assist-run",              "post",   UNASSIGNED,    401, 404, 200, 403, 200, 404),
    ("assist-record",           "post",   ASSIGNED,      401, 400, 400, 403, 400, 404),  # 400: SAM not installed
    ("assist-record",           "post",   UNASSIGNED,    401, 404, 400, 403, 400, 404),
    ("assist-engine-list",      "get",    "",            401, 200, 200, 200, 200, 404),
    ("assist-statistics",       "get",    "",            401, 403, 200, 200, 200, 404),
    ("prelabel-start",          "post",   "",            401, 403, 409, 403, 409, 404),  # 409: no engine can
    ("suggestion-list",         "get",    ASSIGNED,      401, 200, 200, 403, 200, 404),
    ("suggestion-list",         "get",    UNASSIGNED,    401, 404, 200, 403, 200, 404),
    ("suggestion-accept",       "post",   "",            401, 201, 201, 403, 201, 404),
    ("suggestion-reject",       "post",   "",            401, 200, 200, 403, 200, 404),
    ("image-visit",             "post",   ASSIGNED,      401, 200, 200, 403, 200, 404),
    ("image-visit",             "post",   UNASSIGNED,    401, 404, 200, 403, 200, 404),
    ("image-embedding",         "get",    ASSIGNED,      401, 409, 409, 403, 409, 404),  # 409: SAM not installed
    ("image-embedding",         "get",    UNASSIGNED,    401, 404, 409, 403, 409, 404),
    ("sam-decoder",             "get",    "",            401, 409, 409, 409, 409, 409),  # any signed-in user
    ("training-run-list",       "get",    "",            401, 403, 200, 200, 200, 404),
    ("training-run-list",       "post",   "",            401, 403, 403, 403, 202, 404),  # admins train
    ("training-run-detail",     "get",    "",            401, 403, 200, 200, 200, 404),
    ("trained-model-list",      "get",    "",            401, 403, 200, 200, 200, 404),
    ("trained-model-detail",    "get",    "",            401, 403, 200, 200, 200, 404),
    ("trained-model-promote",   "post",   "",            401, 403, 403, 403, 404, 404),  # 404: its files are gone
    ("trained-model-retrain",   "post",   "",            401, 403, 403, 403, 202, 404),  # admins train
    ("trained-model-evaluate",  "post",   "",            401, 403, 403, 404, 404, 404),  # likewise
    ("trained-model-file",      "get",    "",            401, 403, 404, 404, 404, 404),  # likewise
    ("trained-model-worst-case", "get",   "",            401, 403, 404, 404, 404, 404),  # none recorded
    ("label-next-list",         "get",    "",            401, 403, 200, 403, 200, 404),
    ("label-next-start",        "post",   "",            401, 403, 409, 403, 409, 404),  # 409: no promoted model
    ("label-error-list",        "get",    "",            401, 403, 200, 403, 200, 404),
    ("label-errors-start",      "post",   "",            401, 403, 409, 403, 409, 404),
    ("label-error-decide",      "post",   "",            401, 403, 200, 403, 200, 404),
]
# fmt: on
ASSIST_WRITTEN_MODELS = (
    Suggestion,
    SuggestionDecision,
    ImageVisit,
    Job,
    TrainingRun,
    TrainedModel,
    LabelNextScore,
    LabelErrorScore,
)
SQUARE = {"polygons": [{"exterior": [[10, 10], [20, 10], [20, 20], [10, 20]], "holes": []}]}


@dataclass(frozen=True)
class Call:
    """The shape of tests/test_role_matrix.py's Call (path, data, format)."""

    path: str
    data: dict | None = None
    format: str | None = "json"


def _image(world, variant: str):
    return {ASSIGNED: world.assigned_image, UNASSIGNED: world.unassigned_image}[variant]


def _prelabel(world) -> Suggestion:
    """A pre-label on the assigned image, as a job would have written it."""
    image = world.assigned_image
    polygons = polygons_from_json(SQUARE, width=image.width, height=image.height)
    return Suggestion.objects.create(
        project=world.team.project,
        image=image,
        defect_class=world.team.defect_class,
        origin=SuggestionOrigin.PRELABEL,
        engine="detector",
        score=0.9,
        **suggestion_shape(polygons=polygons, image=image),
    )


def _label_error(world) -> LabelErrorScore:
    """An entry of the label-error queue on the assigned image, as a job would have written it."""
    return LabelErrorScore.objects.create(
        project=world.team.project,
        image=world.assigned_image,
        score=0.1,
        annotations=[],
        prediction=[],
        unlabelled_defect_px=0,
        disagreeing_px=0,
    )


def _assist(variant: str):
    return lambda world: Call(
        f"/api/v1/images/{_image(world, variant).pk}/assist/",
        {"prompt": {"defect_class_id": world.team.defect_class.pk, "box": [10, 10, 30, 30]}},
    )


def _version(world):
    """A version whose training split holds the world's unassigned image, judged defect-free."""
    Image.objects.filter(pk=world.unassigned_image.pk).update(is_defect_free=True, status=ImageStatus.FINAL)
    return dataset_version_freeze(
        project=world.team.project,
        name="matrix",
        created_by=None,
        options=FreezeOptions(
            image_statuses=tuple(ImageStatus.values),
            final_annotations_only=False,
            split_ratios=(("train", 1.0), ("val", 0.0), ("test", 0.0)),
        ),
    )


def _run(world) -> TrainingRun:
    """A finished run's rows, without its files (a server that lost them: the file endpoints answer 404)."""
    version = _version(world)
    job = job_create(kind=TRAINING_JOB_KIND, project=world.team.project, created_by=world.team.admin)
    run = TrainingRun.objects.create(
        project=world.team.project,
        dataset_version=version,
        content_hash=version.content_hash,
        recipe={"name": "unet-lite0"},
        seed=0,
        code_version="test",
        job=job,
        created_by=world.team.admin,
    )
    TrainedModel.objects.create(
        project=world.team.project,
        run=run,
        defect_classes=[world.team.defect_class.name],
        metrics={"worst_cases": []},
        validation_metrics={},
        decision={},
        parity={},
        files={},
    )
    return run


def _model_call(suffix: str, data: dict | None = None):
    return lambda world: Call(f"/api/v1/models/{_run(world).trained_model.pk}/{suffix}", data)


ASSIST_REQUESTS = {
    ("training-run-list", "get", ""): lambda world: Call(f"/api/v1/projects/{world.team.project.pk}/training-runs/"),
    ("training-run-list", "post", ""): lambda world: Call(
        f"/api/v1/projects/{world.team.project.pk}/training-runs/", {"version_id": _version(world).pk, "epochs": 1}
    ),
    ("training-run-detail", "get", ""): lambda world: Call(f"/api/v1/training-runs/{_run(world).pk}/"),
    ("trained-model-list", "get", ""): lambda world: Call(f"/api/v1/projects/{world.team.project.pk}/models/"),
    ("trained-model-detail", "get", ""): _model_call(""),
    ("trained-model-promote", "post", ""): _model_call("promote/"),
    ("trained-model-retrain", "post", ""): _model_call("retrain/"),
    ("trained-model-evaluate", "post", ""): _model_call("evaluations/", {}),
    ("trained-model-file", "get", ""): _model_call("files/onnx_fp32"),
    ("trained-model-worst-case", "get", ""): _model_call("worst-cases/0.png"),
    ("assist-run", "post", ASSIGNED): _assist(ASSIGNED),
    ("assist-run", "post", UNASSIGNED): _assist(UNASSIGNED),
    ("assist-record", "post", ASSIGNED): _assist_record(ASSIGNED),
    ("assist-record", "post", UNASSIGNED): _assist_record(UNASSIGNED),
    ("assist-engine-list", "get", ""): lambda world: Call(f"/api/v1/projects/{world.team.project.pk}/assist/engines/"),
    ("assist-statistics", "get", ""): lambda world: Call(
        f"/api/v1/projects/{world.team.project.pk}/assist/statistics/"
    ),
    ("prelabel-start", "post", ""): lambda world: Call(
        f"/api/v1/projects/{world.team.project.pk}/prelabels/", {"all_unlabelled": True}
    ),
    ("suggestion-list", "get", ASSIGNED): lambda world: Call(f"/api/v1/images/{world.assigned_image.pk}/suggestions/"),
    ("suggestion-list", "get", UNASSIGNED): lambda world: Call(
        f"/api/v1/images/{world.unassigned_image.pk}/suggestions/"
    ),
    ("suggestion-accept", "post", ""): lambda world: Call(f"/api/v1/suggestions/{_prelabel(world).pk}/accept/", {}),
    ("suggestion-reject", "post", ""): lambda world: Call(f"/api/v1/suggestions/{_prelabel(world).pk}/reject/"),
    ("image-visit", "post", ASSIGNED): lambda world: Call(f"/api/v1/images/{world.assigned_image.pk}/visits/"),
    ("image-visit", "post", UNASSIGNED): lambda world: Call(f"/api/v1/images/{world.unassigned_image.pk}/visits/"),
    ("image-embedding", "get", ASSIGNED): lambda world: Call(f"/api/v1/images/{world.assigned_image.pk}/embedding/"),
    ("image-embedding", "get", UNASSIGNED): lambda world: Call(
        f"/api/v1/images/{world.unassigned_image.pk}/embedding/"
    ),
    ("sam-decoder", "get", ""): lambda world: Call("/api/v1/assist/sam/decoder.onnx"),
    ("label-next-list", "get", ""): lambda world: Call(f"/api/v1/projects/{world.team.project.pk}/label-next/"),
    ("label-next-start", "post", ""): lambda world: Call(f"/api/v1/projects/{world.team.project.pk}/label-next/jobs/"),
    ("label-error-list", "get", ""): lambda world: Call(f"/api/v1/projects/{world.team.project.pk}/label-errors/"),
    ("label-errors-start", "post", ""): lambda world: Call(
        f"/api/v1/projects/{world.team.project.pk}/label-errors/jobs/"
    ),
    ("label-error-decide", "post", ""): lambda world: Call(
        f"/api/v1/label-errors/{_label_error(world).pk}/decide/", {"outcome": "kept"}
    ),
}
# Refusals whose code is not the matrix's default for their status (url name, status) -> code.
ASSIST_ERROR_CODES = {
    ("image-embedding", 409): "sam_not_installed",
    ("sam-decoder", 409): "sam_not_installed",
    ("label-next-start", 409): "no_promoted_model",
    ("label-errors-start", 409): "no_promoted_model",
}
