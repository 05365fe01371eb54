"""The annotation conflict's body: the editor shows the user's version beside the whole current annotation."""

from typing import cast

from annotation.api.serializers import AnnotationOutput
from annotation.errors import AnnotationConflict
from defectlab.api.errors import error_body
from defectlab.errors import DomainError


@error_body(AnnotationConflict)
def annotation_conflict_body(error: DomainError) -> dict:
    conflict = cast(AnnotationConflict, error)  # registered for this class only
    # null when someone deleted it (then current_revision is null too)
    current = AnnotationOutput(conflict.current).data if conflict.current is not None else None
    return {"current_revision": conflict.current_revision, "current": current}
