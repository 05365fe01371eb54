"""Adjudication: a senior decides a disagreement. The decision becomes the image's final annotations (new rows);
A's and B's work is never changed."""

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation.services.reviews import FinalDefect, annotations_finalize
from defectlab.errors import ValidationFailed
from qa.errors import AlreadyDecided
from qa.models import Adjudication, AdjudicationDecision, AdjudicationStatus
from qa.selectors import adjudication_get_for_review, dual_work_for_image
from qa.services.choices import DefectChoice, final_defects_from


@transaction.atomic
def adjudication_decide(
    *,
    user: User,
    adjudication_id: int,
    decision: str,
    reason: str,
    defects: Sequence[DefectChoice] = (),
) -> Adjudication:
    """Decide: take A's work (`first`), B's (`second`), pick defects from either as drawn (`per_defect`), or
    pick and change them or draw new ones (`edited`). A reason is required; it stays with the decision."""
    adjudication = adjudication_get_for_review(user=user, adjudication_id=adjudication_id, lock=True)
    if adjudication.status != AdjudicationStatus.PENDING:
        raise AlreadyDecided("Someone already decided this adjudication.", decided_by=adjudication.adjudicator_id)
    if decision not in AdjudicationDecision.values:
        raise ValidationFailed(f"decision must be one of {', '.join(AdjudicationDecision.values)}.")
    if not reason.strip():
        raise ValidationFailed("Record a reason for the decision.")
    agreement = adjudication.agreement
    first, second = dual_work_for_image(
        image=agreement.image,
        first_annotator_id=agreement.first_annotator_id,
        second_annotator_id=agreement.second_annotator_id,
    )
    if decision in (AdjudicationDecision.FIRST, AdjudicationDecision.SECOND):
        if defects:
            raise ValidationFailed(f"A decision {decision!r} takes no defects; send 'per_defect' or 'edited'.")
        taken = first if decision == AdjudicationDecision.FIRST else second
        finals = [FinalDefect(source=annotation) for annotation in taken]
    else:
        finals = final_defects_from(defects, sources=[*first, *second])
        if decision == AdjudicationDecision.PER_DEFECT and any(final.changes for final in finals):
            raise ValidationFailed("'per_defect' takes defects as drawn; send 'edited' to change them.")
    created = annotations_finalize(image=agreement.image, defects=finals, actor=user)
    adjudication.status, adjudication.decision, adjudication.reason = AdjudicationStatus.DECIDED, decision, reason
    adjudication.adjudicator, adjudication.decided_at = user, timezone.now()
    adjudication.final_sources = [
        {
            "final_annotation_id": row.pk,
            "source_annotation_id": final.source.pk if final.source else None,
            "is_edited": bool(final.changes),
        }
        for final, row in zip(finals, created, strict=True)
    ]
    adjudication.save()
    return adjudication
