"""Cross-app events (defectlab/events.py): every declared event reaches each subscribed handler through a real
worker, and a handler the worker's Celery app does not know is caught before it can drop an event."""

import time

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from annotation.events import (
    FINAL_ANNOTATION_EDITED,
    FINAL_ANSWER_DOUBTED,
    IMAGE_SUBMITTED,
    IMAGES_INGESTED,
    TAXONOMY_CHANGED,
)
from annotation.geometry import polygons_from_json
from annotation.models import Annotation
from annotation.services.annotations import ImportedDefect, annotation_save, annotations_import
from annotation.services.projects import defect_class_update
from annotation.services.reviews import final_answer_doubt
from assist.services.sam import EMBEDDINGS_JOB_KIND, SAM_NOT_INSTALLED
from defectlab.events import _celery_task_names, events_check, events_declared
from defectlab.jobs.models import Job, JobStatus
from qa.models import Adjudication, EdgeCase, ReReview
from qa.services.adjudications import adjudication_decide
from qa.services.choices import DefectChoice
from qa.tests.factories import annotate, assigned_image, second_inspector, square, submit_all
from tests.factories import image_create

WORKER_TIMEOUT_SECONDS = 60


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_every_subscribed_handler_is_a_task_the_worker_knows():
    assert events_check(_celery_task_names()) == []
    call_command("check")  # the same check runs as a Django system check


class RenamedTask:
    name = "qa.tasks.image_submitted_task_renamed"


def test_a_handler_whose_task_was_renamed_fails_the_check():
    # given: a subscription to a task name the Celery app does not register (a task renamed, a module moved)
    IMAGE_SUBMITTED.subscribe(RenamedTask())
    try:
        # when / then
        assert events_check(_celery_task_names()) == [
            "event 'image_submitted': subscribed task 'qa.tasks.image_submitted_task_renamed' is not registered "
            "with the Celery app"
        ]
        with pytest.raises(SystemCheckError, match="image_submitted_task_renamed"):
            call_command("check")
    finally:
        IMAGE_SUBMITTED.subscriptions[:] = [
            subscription for subscription in IMAGE_SUBMITTED.subscriptions if subscription.task_name != RenamedTask.name
        ]


def test_an_event_with_a_wrong_payload_is_refused_where_it_is_emitted():
    from defectlab.events import event_emit

    with pytest.raises(TypeError, match="takes \\['image_id'\\]"):
        event_emit(IMAGE_SUBMITTED, image=1)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_every_declared_event_reaches_each_handler_through_a_real_worker(celery_worker_process, team):
    # given: what each handler leaves behind when it ran (a new subscriber must add its own line here)
    inspector2 = second_inspector(team)
    handled = {}

    # when: the core emits each declared event from its own services, as it does in production
    # image submitted -> QA compares the two inspectors' work and opens an adjudication
    image = assigned_image(team, team.inspector, inspector2)
    work = [annotate(team.inspector, image, square(x=10)), annotate(inspector2, image, square(x=15))]
    submit_all(image, team.inspector, inspector2)
    handled[IMAGE_SUBMITTED] = lambda: Adjudication.objects.filter(agreement__image=image).exists()
    wait_for(handled[IMAGE_SUBMITTED], "the image_submitted handler")
    # final annotation edited -> QA records the reviewer's edit on the adjudication
    adjudication = Adjudication.objects.get(agreement__image=image)
    adjudication_decide(
        user=team.senior,
        adjudication_id=adjudication.pk,
        decision="edited",
        reason="A's crack",
        defects=[DefectChoice(annotation_id=work[0].pk)],
    )
    final = Annotation.objects.get(image=image, is_final=True)
    annotation_save(
        user=team.senior, annotation_id=final.pk, expected_revision=final.revision, geometry_data=square(x=12)
    )
    handled[FINAL_ANNOTATION_EDITED] = lambda: bool(Adjudication.objects.get(pk=adjudication.pk).reviewer_edits)
    # final answer doubted -> QA opens a consensus review (an edge case) in the reviewer's name
    final_answer_doubt(user=team.senior, image_id=image.pk, note="The model disagrees with this answer.")
    handled[FINAL_ANSWER_DOUBTED] = lambda: EdgeCase.objects.filter(image=image, flagged_by=team.senior).exists()
    # taxonomy changed -> QA flags the final annotations of the renamed class for re-review
    other = image_create(project=team.project, seed=5)
    polygons = polygons_from_json(square(x=5), width=other.width, height=other.height)
    annotations_import(
        image=other, defects=[ImportedDefect(defect_class=team.defect_class, polygons=polygons)], author=None
    )
    defect_class_update(defect_class=team.defect_class, actor=team.admin, name="hairline crack")
    handled[TAXONOMY_CHANGED] = lambda: ReReview.objects.filter(annotation__image=other).exists()
    # images ingested: emitted by image_create (the real ingestion path) above. The assist app starts an
    # `assist_embeddings` job for the batch; with no SAM installed here it ends saying so.
    handled[IMAGES_INGESTED] = lambda: Job.objects.filter(
        kind=EMBEDDINGS_JOB_KIND, project=other.project, status=JobStatus.SUCCEEDED, result__message=SAM_NOT_INSTALLED
    ).exists()

    # then: every declared event was emitted here, and every subscribed handler ran on the worker
    assert set(handled) == set(events_declared())
    for event, ran in handled.items():
        wait_for(ran, f"the handlers of {event.name}")
