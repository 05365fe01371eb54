"""QA's rows of the API role matrix (tests/test_role_matrix.py adds them to its own): who gets what from every QA
operation. Builders receive that module's World: the team, an image assigned to the inspector, the senior and
the admin, and an image assigned to nobody."""

from dataclasses import dataclass

from annotation.geometry import polygons_from_json
from annotation.services.annotations import ImportedDefect, annotations_import
from annotation.services.images import assignment_submit, assignments_create
from qa.models import (
    Adjudication,
    Agreement,
    AgreementPhase,
    DefectMatch,
    EdgeCase,
    QaPolicy,
    ReReview,
    SpotCheck,
    SpotCheckSample,
)
from qa.services.policies import qa_policy_current, qa_policy_update
from qa.tests.factories import square
from tests.factories import image_create

ASSIGNED, UNASSIGNED = "assigned", "unassigned"

# fmt: off
#  url name                     method    variant        anon insp senior  ml  admin outsider
QA_EXPECTED_STATUS = [
    ("qa-policy",               "get",    "",            401, 200, 200, 200, 200, 404),
    ("qa-policy",               "put",    "",            401, 403, 403, 403, 200, 404),
    ("qa-assignment-create",    "post",   "",            401, 403, 201, 403, 201, 404),
    ("qa-statistics",           "get",    "",            401, 403, 200, 200, 200, 404),
    ("adjudication-list",       "get",    "",            401, 403, 200, 403, 200, 404),
    ("adjudication-detail",     "get",    "",            401, 403, 200, 403, 200, 404),
    ("adjudication-decide",     "post",   "",            401, 403, 200, 403, 200, 404),
    ("spot-check-sample-list",  "get",    "",            401, 403, 200, 403, 200, 404),
    ("spot-check-sample-list",  "post",   "",            401, 403, 201, 403, 201, 404),
    ("spot-check-list",         "get",    "",            401, 403, 200, 403, 200, 404),
    ("spot-check-decide",       "post",   "",            401, 403, 200, 403, 200, 404),
    ("edge-case-flag",          "post",   ASSIGNED,      401, 201, 201, 201, 201, 404),  # anyone who sees it
    ("edge-case-flag",          "post",   UNASSIGNED,    401, 404, 201, 201, 201, 404),
    ("edge-case-list",          "get",    "",            401, 200, 200, 200, 200, 404),  # inspectors: own flags
    ("edge-case-decide",        "post",   "",            401, 403, 200, 403, 200, 404),
    ("precedent-list",          "get",    "",            401, 200, 200, 200, 200, 404),
    ("re-review-list",          "get",    "",            401, 403, 200, 403, 200, 404),
    ("re-review-resolve",       "post",   "",            401, 403, 200, 403, 200, 404),
]
# fmt: on
QA_WRITTEN_MODELS = (QaPolicy, Agreement, DefectMatch, Adjudication, SpotCheckSample, SpotCheck, EdgeCase, ReReview)


@dataclass(frozen=True)
class Call:
    """The shape of tests/test_role_matrix.py's Call (path, data, format)."""

    path: str
    data: dict | None = None
    format: str | None = "json"


def _call(path: str, data: dict | None = None) -> Call:
    return Call(path, data)


def _project(suffix: str, data: dict | None = None):
    return lambda world: _call(f"/api/v1/projects/{world.team.project.pk}/{suffix}", data)


def _adjudication(world) -> Adjudication:
    team = world.team
    agreement = Agreement.objects.create(
        image=world.assigned_image,
        project=team.project,
        policy=qa_policy_current(project=team.project),
        phase=AgreementPhase.CALIBRATION,
        first_annotator=team.inspector,
        second_annotator=team.senior,
        is_agreed=False,
        is_image_judgement_agreed=True,
        reasons=["iou_below_threshold"],
    )
    return Adjudication.objects.create(agreement=agreement)


def _spot_check(world) -> SpotCheck:
    team = world.team
    sample = SpotCheckSample.objects.create(
        project=team.project,
        policy=qa_policy_current(project=team.project),
        seed=1,
        rate=0.1,
        population_image_ids=[world.assigned_image.pk],
        drawn_image_ids=[world.assigned_image.pk],
    )
    return SpotCheck.objects.create(sample=sample, image=world.assigned_image, annotator=team.inspector)


def _submitted_single_work(world):
    """No calibration, and one submitted image with one annotator: something to draw from."""
    team = world.team
    qa_policy_update(project=team.project, actor=team.admin, calibration_image_count=0)
    image = image_create(project=team.project, seed=7, name="single.png")
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    assignment_submit(image=image, annotator=team.inspector)
    return _call(f"/api/v1/projects/{team.project.pk}/qa/spot-check-samples/", {"seed": 5})


def _re_review(world) -> ReReview:
    team, image = world.team, world.assigned_image
    polygons = polygons_from_json(square(x=5), width=image.width, height=image.height)
    final = annotations_import(
        image=image, defects=[ImportedDefect(defect_class=team.defect_class, polygons=polygons)], author=None
    )[0]
    return ReReview.objects.create(
        project=team.project, annotation=final, defect_class=team.defect_class, change="renamed"
    )


QA_REQUESTS = {
    ("qa-policy", "get", ""): _project("qa/policy/"),
    ("qa-policy", "put", ""): _project("qa/policy/", {"spot_check_rate": 0.12}),
    ("qa-assignment-create", "post", ""): lambda world: _call(
        f"/api/v1/projects/{world.team.project.pk}/qa/assignments/",
        {"annotators": ["inspector", "senior"], "image_ids": [world.unassigned_image.pk]},
    ),
    ("qa-statistics", "get", ""): _project("qa/statistics/"),
    ("adjudication-list", "get", ""): _project("qa/adjudications/"),
    ("adjudication-detail", "get", ""): lambda world: _call(f"/api/v1/qa/adjudications/{_adjudication(world).pk}/"),
    ("adjudication-decide", "post", ""): lambda world: _call(
        f"/api/v1/qa/adjudications/{_adjudication(world).pk}/decide/", {"decision": "first", "reason": "A is right"}
    ),
    ("spot-check-sample-list", "get", ""): _project("qa/spot-check-samples/"),
    ("spot-check-sample-list", "post", ""): _submitted_single_work,
    ("spot-check-list", "get", ""): _project("qa/spot-checks/"),
    ("spot-check-decide", "post", ""): lambda world: _call(
        f"/api/v1/qa/spot-checks/{_spot_check(world).pk}/decide/", {"verdict": "accept"}
    ),
    ("edge-case-flag", "post", ASSIGNED): lambda world: _call(
        f"/api/v1/images/{world.assigned_image.pk}/edge-cases/", {"note": "crack or glaze line?"}
    ),
    ("edge-case-flag", "post", UNASSIGNED): lambda world: _call(
        f"/api/v1/images/{world.unassigned_image.pk}/edge-cases/", {"note": "crack or glaze line?"}
    ),
    ("edge-case-list", "get", ""): _project("qa/edge-cases/"),
    ("edge-case-decide", "post", ""): lambda world: _call(
        "/api/v1/qa/edge-cases/{}/decide/".format(
            EdgeCase.objects.create(
                project=world.team.project, image=world.assigned_image, flagged_by=world.team.inspector, note="?"
            ).pk
        ),
        {"decision": "a glaze line", "precedent_defect_class_id": world.team.defect_class.pk},
    ),
    ("precedent-list", "get", ""): _project("precedents/"),
    ("re-review-list", "get", ""): _project("qa/re-reviews/"),
    ("re-review-resolve", "post", ""): lambda world: _call(
        f"/api/v1/qa/re-reviews/{_re_review(world).pk}/resolve/", {"resolution": "still a crack"}
    ),
}
