"""Reviewers' edits of an image's final annotations in the editor, after the decision that made them, recorded on
that decision (`reviewer_edits`) beside the audit trail that annotation's services keep."""

from django.db import transaction

from annotation.models import AuditAction, AuditEntry
from qa.models import Adjudication, AdjudicationStatus, SpotCheck, SpotCheckStatus

_EDITED_FIELDS = (("geometry", "geometry"), ("defect_class_id", "defect_class"), ("severity_id", "severity"))


def final_edit_changes(entry: AuditEntry) -> list[str]:
    """What one audited change did to a final annotation: ["added"], ["removed"], or the fields it changed
    ("geometry", "defect_class", "severity", as in a spot check's reviewer edits)."""
    if entry.action == AuditAction.CREATE:
        return ["added"]
    if entry.action == AuditAction.DELETE:
        return ["removed"]
    before, after = entry.before or {}, entry.after or {}
    return [name for field, name in _EDITED_FIELDS if before.get(field) != after.get(field)]


@transaction.atomic
def final_edit_record(*, audit_entry_id: int) -> Adjudication | SpotCheck | None:
    """Record one audited change of a final annotation on the decision behind the image's final answer: its
    decided adjudication, else its latest accepted spot check. None when no decision made the answer (the two
    annotators agreed, a sample passed it over, it was imported): the audit trail alone keeps the change.
    Safe to run twice: an audit entry is recorded once."""
    entry = AuditEntry.objects.filter(pk=audit_entry_id, object_type="annotation").first()
    snapshot = (entry.after or entry.before) if entry is not None else None
    if entry is None or not snapshot or not snapshot.get("is_final"):
        return None
    image_id = snapshot["image_id"]
    record: Adjudication | SpotCheck | None = (
        Adjudication.objects.select_for_update(of=("self",))
        .filter(agreement__image_id=image_id, status=AdjudicationStatus.DECIDED)
        .first()
    )
    if record is None:
        record = (
            SpotCheck.objects.select_for_update()
            .filter(image_id=image_id, status=SpotCheckStatus.ACCEPTED)
            .order_by("-id")
            .first()
        )
    if record is None or any(edit.get("audit_entry_id") == entry.pk for edit in record.reviewer_edits):
        return record
    record.reviewer_edits = [
        *record.reviewer_edits,
        {
            "audit_entry_id": entry.pk,
            "source_annotation_id": None,  # an edit of the final answer itself, not of an annotator's work
            "final_annotation_id": entry.object_id,
            "action": entry.action,
            "changes": final_edit_changes(entry),
            "reviewer_id": entry.actor_id,
            "edited_at": entry.created_at.isoformat(),
        },
    ]
    record.save(update_fields=["reviewer_edits"])
    return record
