"""A reviewer's picks and edits, turned into final defects (shared by adjudication and spot checks)."""

from collections.abc import Sequence
from dataclasses import dataclass

from annotation.models import Annotation
from annotation.services.reviews import KEEP, FinalDefect
from defectlab.errors import ValidationFailed


@dataclass(frozen=True)
class DefectChoice:
    """One defect of a decision: an annotator's annotation taken as drawn, or changed, or a new geometry."""

    annotation_id: int | None = None
    defect_class_id: int | None = None
    severity_id: object = KEEP  # int, None (no severity) or KEEP
    geometry: object | None = None


def final_defects_from(choices: Sequence[DefectChoice], *, sources: Sequence[Annotation]) -> list[FinalDefect]:
    """Resolve choices against the annotations a decision may take from (no other image's, no final ones)."""
    by_id = {annotation.pk: annotation for annotation in sources}
    finals = []
    for choice in choices:
        source = None
        if choice.annotation_id is not None:
            source = by_id.get(choice.annotation_id)
            if source is None:
                raise ValidationFailed(f"Annotation {choice.annotation_id} is not part of the work under review.")
        finals.append(
            FinalDefect(
                source=source,
                defect_class_id=choice.defect_class_id,
                severity_id=choice.severity_id,
                geometry_data=choice.geometry,
            )
        )
    taken = [final.source.pk for final in finals if final.source is not None]
    if len(taken) != len(set(taken)):
        raise ValidationFailed("Each annotation can be taken once.")
    return finals
