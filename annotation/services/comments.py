"""The per-image comment thread: questions to a reviewer, answers, notes about one defect."""

from django.contrib.auth.models import User
from django.db import transaction

from annotation.models import ImageComment
from annotation.selectors import annotation_list_for_image, image_get_for_user
from defectlab.errors import ValidationFailed

COMMENT_MAX_CHARS = 5000


@transaction.atomic
def image_comment_create(*, user: User, image_id: int, text: str, annotation_id: int | None = None) -> ImageComment:
    """Anyone who may see the image may comment on it, optionally about one annotation they can see."""
    image, role = image_get_for_user(user=user, image_id=image_id)
    text = text.strip()
    if not text:
        raise ValidationFailed("A comment needs some text.")
    if len(text) > COMMENT_MAX_CHARS:
        raise ValidationFailed(f"A comment holds at most {COMMENT_MAX_CHARS:,} characters, got {len(text):,}.")
    if "\x00" in text:
        raise ValidationFailed("A comment cannot contain NUL characters.")  # PostgreSQL text cannot hold them
    annotation = None
    if annotation_id is not None:
        annotation = annotation_list_for_image(user=user, role=role, image=image).filter(pk=annotation_id).first()
        if annotation is None:
            raise ValidationFailed("No such annotation on this image.")
    return ImageComment.objects.create(image=image, author=user, annotation=annotation, text=text)
