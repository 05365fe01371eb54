"""Reads of the work queue: a member's open assignments in the order they were given (next, and the neighbours of
an image), and which new images to assign next (label next's ranking first, through a setting)."""

import functools
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import (
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.utils.module_loading import import_string

from annotation.models import (
    Assignment,
    AssignmentStatus,
    Image,
    ImageStatus,
    Membership,
    Project,
)


def work_of_member(user: User) -> QuerySet[Assignment]:
    """The user's assignments in the projects they are a member of now: a member removed from a project (or an
    assignment left behind) serves no work from it, whatever rows remain."""
    assignments = Assignment.objects.filter(annotator=user)
    if user.is_superuser:
        return assignments  # an admin of every project
    return assignments.filter(Exists(Membership.objects.filter(project_id=OuterRef("image__project_id"), user=user)))


# New work in the order a model ranks it (label next), without importing the app that ranks.


@functools.cache
def _label_next_ranking(path: str) -> Any:
    return import_string(path)


def image_ids_next_to_assign(*, project: Project, count: int) -> list[int]:
    """The ids of the next `count` new images to assign: first those the label-next ranking puts first (the
    function DEFECTLAB_LABEL_NEXT_RANKING names, `(*, images, limit) -> ids`, most informative first: the assist
    app's model uncertainty), then the rest in upload order. Without a ranking, upload order alone."""
    new = Image.objects.filter(project=project, status=ImageStatus.NEW)
    path = settings.DEFECTLAB_LABEL_NEXT_RANKING
    ranked: list[int] = list(_label_next_ranking(path)(images=new, limit=count)) if path else []
    rest = new.exclude(pk__in=ranked).order_by("id").values_list("pk", flat=True)[: count - len(ranked)]
    return ranked + list(rest)


# The queue: the user's open work, in the order it was assigned.

QUEUE_OPEN_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED)


def _queue_steps(
    *, user: User, after_image_id: int | None, project: Project | None, forward: bool
) -> list[QuerySet[Assignment]]:
    """Where to look, in turn, for the user's next open assignment after (or before) their assignment on
    `after_image_id` in queue order (assignment id), never that image itself: the near side, then the whole
    queue from its start (or end), which is the wrap when the near side is empty. Each is read along the
    assignment_open_queue index and stops at its first row: ordering the whole open queue by side took 20 ms at a
    million images, most of it reading the queue's rows."""
    open_work = work_of_member(user).filter(status__in=QUEUE_OPEN_STATUSES)
    if project is not None:
        open_work = open_work.filter(image__project=project)
    order = "id" if forward else "-id"
    if after_image_id is None:
        return [open_work.order_by(order)]
    open_work = open_work.exclude(image_id=after_image_id)
    # One row at most (one assignment per image and annotator), read inside the near side's query. Without one
    # (NULL), the near side is empty and the whole queue follows: from the start, as documented.
    pivot = Subquery(Assignment.objects.filter(annotator=user, image_id=after_image_id).order_by().values("id")[:1])
    near = open_work.filter(id__gt=pivot) if forward else open_work.filter(id__lt=pivot)
    return [near.order_by(order), open_work.order_by(order)]


def _queue_first(*, steps: list[QuerySet[Assignment]], field: str) -> Any:
    """`field` of the first row of the first step that has one, in one query: each step's first row (ordered,
    LIMIT 1), put together with UNION ALL in step order."""
    firsts = [
        step.annotate(queue_step=Value(number, output_field=IntegerField())).values_list(field, "queue_step")[:1]
        for number, step in enumerate(steps)
    ]
    combined = firsts[0].union(*firsts[1:], all=True).order_by("queue_step") if len(firsts) > 1 else firsts[0]
    first = next(iter(combined), None)
    return None if first is None else first[0]


def queue_next_for_user(
    *, user: User, after_image_id: int | None = None, project: Project | None = None
) -> Assignment | None:
    """The next image to work on: the first open assignment (assigned, in progress, returned) after the user's
    assignment on `after_image_id`, in queue order (assignment id), wrapping round to the start so skipped and
    returned work is not forgotten. Never `after_image_id` itself; None when nothing else is open."""
    steps = _queue_steps(user=user, after_image_id=after_image_id, project=project, forward=True)
    assignment_id = _queue_first(steps=steps, field="id")
    if assignment_id is None:
        return None
    return Assignment.objects.select_related("image", "image__project").get(pk=assignment_id)


def queue_neighbours_for_image(*, user: User, image: Image) -> tuple[int | None, int | None]:
    """(previous, next) image ids in the user's open queue of `image`'s project, as queue_next_for_user walks it."""
    previous_id, next_id = (
        _queue_first(
            steps=_queue_steps(user=user, after_image_id=image.pk, project=image.project, forward=forward),
            field="image_id",
        )
        for forward in (False, True)
    )
    return previous_id, next_id
