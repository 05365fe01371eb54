"""A reviewer doubts a final answer: the core announces it (FINAL_ANSWER_DOUBTED) for QA's consensus review;
other roles, other projects and answers that are not final are refused, and nothing is announced."""

import pytest

from annotation.models import ImageStatus
from annotation.services.reviews import FinalDefect, annotations_finalize, final_answer_doubt
from defectlab.errors import NotFound, PermissionDenied, ValidationFailed
from qa.tests.factories import square
from tests.factories import image_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def final_image(team):
    image = image_create(project=team.project, seed=3, name="final.png")
    defect = FinalDefect(defect_class_id=team.defect_class.pk, geometry_data=square(x=5))
    annotations_finalize(image=image, defects=[defect], actor=team.admin)
    return image


@pytest.mark.parametrize("role", ["senior", "admin"])
def test_a_reviewer_doubts_a_final_answer(team, final_image, role, sent_events, django_capture_on_commit_callbacks):
    user = team.member(role)
    with django_capture_on_commit_callbacks(execute=True):
        final_answer_doubt(user=user, image_id=final_image.pk, note="The model sees a crack at the edge.")
    assert sent_events == [
        (
            "qa.tasks.final_answer_doubted_task",
            {"image_id": final_image.pk, "user_id": user.pk, "note": "The model sees a crack at the edge."},
        )
    ]


@pytest.mark.parametrize(
    ("role", "error"), [("inspector", NotFound), ("ml_engineer", PermissionDenied), ("outsider", NotFound)]
)
def test_others_may_not(team, final_image, role, error, sent_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(error):
        final_answer_doubt(user=team.member(role), image_id=final_image.pk, note="")
    assert sent_events == []


def test_only_a_final_answer(team, final_image, sent_events, django_capture_on_commit_callbacks):
    final_image.status = ImageStatus.SUBMITTED
    final_image.save(update_fields=["status"])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationFailed, match="final answer"):
        final_answer_doubt(user=team.senior, image_id=final_image.pk, note="")
    assert sent_events == []
