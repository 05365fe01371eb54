"""What the core announces to other apps (defectlab/events.py): subscribers are Celery tasks taking these
fields as keyword arguments, run after the emitting transaction commits."""

from defectlab.events import event_declare

IMAGE_SUBMITTED = event_declare(
    "image_submitted",
    fields=["image_id"],
    doc="Every assignee of the image submitted their work: it awaits review.",
)
FINAL_ANNOTATION_EDITED = event_declare(
    "final_annotation_edited",
    fields=["audit_entry_id"],
    doc="A reviewer changed an image's final answer in the editor; the audit entry says who changed what.",
)
TAXONOMY_CHANGED = event_declare(
    "taxonomy_changed",
    fields=["defect_class_id", "changes", "before", "after"],
    doc="A defect class changed in a way that can make final annotations wrong (renamed, minimum size, ...): "
    "`changes` names what changed, `before`/`after` are the class's snapshots.",
)
IMAGES_INGESTED = event_declare(
    "images_ingested",
    fields=["project_id", "image_ids"],
    doc="New images were stored in a project (upload, folder import, COCO import), one batch per event.",
)
FINAL_ANSWER_DOUBTED = event_declare(
    "final_answer_doubted",
    fields=["image_id", "user_id", "note"],
    doc="A reviewer doubts an image's final answer and asks for a consensus review (the assist's label-error "
    "review: a model disagrees with it); `note` says why.",
)
