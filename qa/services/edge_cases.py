"""Consensus review: anyone flags a hard image; a senior records the decision, optionally as a class precedent."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation.models import DefectClass
from annotation.selectors import image_get_for_user
from defectlab.errors import NotFound, ValidationFailed
from qa.errors import AlreadyDecided
from qa.models import EdgeCase, EdgeCaseStatus
from qa.permissions import QaAction, qa_check
from qa.selectors import edge_case_get_for_decision


@transaction.atomic
def edge_case_flag(*, user: User, image_id: int, note: str = "") -> EdgeCase:
    """Anyone who can see the image may flag it (inspectors: only images assigned to them). The note is optional:
    a flag raised in the middle of labelling is worth having even when the question is hard to put into words."""
    image, role = image_get_for_user(user=user, image_id=image_id)
    qa_check(role, QaAction.FLAG_EDGE_CASE)
    return EdgeCase.objects.create(project=image.project, image=image, flagged_by=user, note=note.strip())


@transaction.atomic
def edge_case_decide(
    *, user: User, edge_case_id: int, decision: str, precedent_defect_class_id: int | None = None
) -> EdgeCase:
    edge_case = edge_case_get_for_decision(user=user, edge_case_id=edge_case_id, lock=True)
    if edge_case.status != EdgeCaseStatus.OPEN:
        raise AlreadyDecided("This edge case is already decided.")
    if not decision.strip():
        raise ValidationFailed("Record the decision.")
    precedent = None
    if precedent_defect_class_id is not None:
        precedent = DefectClass.objects.filter(pk=precedent_defect_class_id, project_id=edge_case.project_id).first()
        if precedent is None:
            raise ValidationFailed("No such defect class in this project.")
    edge_case.status, edge_case.decision, edge_case.precedent_defect_class = EdgeCaseStatus.DECIDED, decision, precedent
    edge_case.decided_by, edge_case.decided_at = user, timezone.now()
    edge_case.save()
    return edge_case


@transaction.atomic
def edge_case_open_for_doubt(*, image_id: int, user_id: int, note: str) -> EdgeCase | None:
    """A reviewer doubted the image's final answer (annotation's FINAL_ANSWER_DOUBTED): open a consensus review
    in their name, as if they had flagged it. Safe to run twice: an open edge case of the same image, flagger and
    note is not opened again. None when the image or the reviewer is gone, or they may no longer see it."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    already = EdgeCase.objects.filter(
        image_id=image_id, flagged_by=user, note=note.strip(), status=EdgeCaseStatus.OPEN
    ).first()
    if already is not None:
        return already
    try:
        return edge_case_flag(user=user, image_id=image_id, note=note)
    except NotFound:
        return None  # deleted, or the reviewer left the project before the task ran
