"""Dataset versions: freezing a project's labelled images into an immutable, content-hashed manifest."""

import contextlib
import hashlib
import itertools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction

from annotation.models import ImageStatus, Project
from annotation.outlines import outline_texts_for_rles
from datasets import storage
from datasets.job_kinds import FREEZE_JOB_KIND
from datasets.manifest import (
    DEFECT_FREE,
    MANIFEST_FORMAT,
    CountsBuilder,
    ImageEntry,
    ManifestDiff,
    canonical_json,
    export_name,
    line_decoded,
    manifest_annotation_json,
    manifest_image_json,
    manifest_read,
    manifest_splits,
    rle_json,
)
from datasets.models import DatasetVersion, LineKind
from datasets.selectors import (
    FreezeFilter,
    dataset_version_latest,
    freeze_annotation_json,
    freeze_annotation_rows,
    freeze_image_labels,
    freeze_images,
    taxonomy_snapshot,
)
from datasets.splits import DEFAULT_SPLIT_RATIOS, SplitItem, split_assign, split_ratios_check
from datasets.stored_files import scratch_file, store_file
from defectlab.errors import ValidationFailed
from defectlab.jobs.context import JobContext
from defectlab.jobs.models import UNFINISHED_STATUSES, Job
from defectlab.jobs.services import job_create, job_run, job_start
from defectlab.readahead import read_ahead
from defectlab.validation import integer_check, name_check

OUTLINE_BATCH = 256  # annotations without a stored outline traced together (annotation/outlines.py)
IMAGE_BATCH = 500  # images whose annotations are read in one query, and written out together
VERSION_NAME_MAX_LENGTH = 100
FREEZE_TRIES = 3  # a freeze numbered like a version frozen meanwhile is done again on top of it, this often


@dataclass(frozen=True)
class FreezeOptions:
    """What goes into a version besides the project's current state. All of it is part of the content hash."""

    seed: int = 0
    defect_classes: tuple[str, ...] | None = None  # None: every class
    image_statuses: tuple[str, ...] = (ImageStatus.FINAL,)
    final_annotations_only: bool = True
    include_defect_free: bool = True
    split_ratios: tuple[tuple[str, float], ...] = tuple(DEFAULT_SPLIT_RATIOS.items())
    keep_previous_splits: bool = True  # images already in the previous version (same seed, ratios) keep their split

    def to_params(self) -> dict[str, Any]:
        """As a job's JSON params. Split ratios stay a list of pairs: their order is part of the content hash,
        and PostgreSQL's jsonb does not keep the order of an object's keys."""
        return {
            "seed": self.seed,
            "defect_classes": None if self.defect_classes is None else list(self.defect_classes),
            "image_statuses": list(self.image_statuses),
            "final_annotations_only": self.final_annotations_only,
            "include_defect_free": self.include_defect_free,
            "split_ratios": [[split, ratio] for split, ratio in self.split_ratios],
            "keep_previous_splits": self.keep_previous_splits,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "FreezeOptions":
        classes = params["defect_classes"]
        return cls(
            seed=params["seed"],
            defect_classes=None if classes is None else tuple(classes),
            image_statuses=tuple(params["image_statuses"]),
            final_annotations_only=params["final_annotations_only"],
            include_defect_free=params["include_defect_free"],
            split_ratios=tuple((split, ratio) for split, ratio in params["split_ratios"]),
            keep_previous_splits=params["keep_previous_splits"],
        )


@contextmanager
def _consistent_snapshot() -> Iterator[bool]:
    """A transaction whose reads all see one moment: edits saved while a freeze reads do not mix in halfway.

    PostgreSQL's default (READ COMMITTED) gives each query its own snapshot, so the freeze asks for REPEATABLE
    READ; that has to be the transaction's first statement, so an outer transaction (tests) keeps its own level.
    SQLite transactions read one snapshot anyway. Yields whether the snapshot is this transaction's own (a
    REPEATABLE READ one it began): then a second connection may share it (defectlab/readahead.py)."""
    is_own = not connection.in_atomic_block and connection.vendor == "postgresql"
    with transaction.atomic():
        if is_own:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield is_own


def _validated(*, name: str, options: FreezeOptions, line_kind: str, known_classes: list[str]) -> str:
    name = name.strip()
    if not name or len(name) > VERSION_NAME_MAX_LENGTH:
        raise ValidationFailed(f"A version needs a name of 1 to {VERSION_NAME_MAX_LENGTH} characters.")
    name_check(name, label="version name")
    integer_check(options.seed, model=DatasetVersion, field_name="seed")
    if line_kind not in LineKind.values:
        raise ValidationFailed(f"line_kind must be one of {', '.join(LineKind.values)}.")
    unknown_statuses = sorted(set(options.image_statuses) - set(ImageStatus.values))
    if not options.image_statuses or unknown_statuses:
        raise ValidationFailed(f"Image statuses must be some of {', '.join(ImageStatus.values)}.")
    if options.defect_classes is not None:
        unknown = sorted(set(options.defect_classes) - set(known_classes))
        if unknown or not options.defect_classes:
            raise ValidationFailed(f"No such defect classes in this project: {', '.join(unknown) or '(none given)'}.")
    try:
        split_ratios_check(dict(options.split_ratios))
    except ValueError as error:
        raise ValidationFailed(f"Invalid split ratios: {error}.") from None
    return name


@dataclass
class _Frozen:
    content_hash: str
    manifest_key: str
    size_bytes: int
    counts: dict[str, Any]
    diff: dict[str, Any] | None


@dataclass
class _ImageAnnotations:
    """An image's selected annotations: their manifest JSON and classes as PostgreSQL built them
    (freeze_annotation_json), or, where it could not, their rows for Python to write."""

    json: str | None = None  # comma-separated manifest_annotation_json, in id order
    defect_classes: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.json is None and not self.rows


def _with_annotations(
    images: Iterator[dict[str, Any]], selection: FreezeFilter, *, is_own_snapshot: bool
) -> Iterator[tuple[dict[str, Any], _ImageAnnotations]]:
    """Each image (in the stream's order) with its selected annotations, read IMAGE_BATCH images at a time; in
    the freeze's own snapshot, the next batch is read while this one is written (defectlab/readahead.py)."""
    batches = iter(lambda: list(itertools.islice(images, IMAGE_BATCH)), [])

    def read(batch: list[dict[str, Any]]) -> dict[int, _ImageAnnotations]:
        built, unbuilt = freeze_annotation_json(image_ids=[image["id"] for image in batch], selection=selection)
        found = {
            image_id: _ImageAnnotations(json=text, defect_classes=classes)
            for image_id, (text, classes) in built.items()
        }
        for row in freeze_annotation_rows(image_ids=unbuilt, selection=selection) if unbuilt else ():
            found.setdefault(row["image_id"], _ImageAnnotations()).rows.append(row)
        return found

    nothing = _ImageAnnotations()
    for batch, found in read_ahead(batches, read, is_shareable=is_own_snapshot):
        for image in batch:
            yield image, found.get(image["id"], nothing)


def _write_manifest(
    *,
    header: dict[str, Any],
    images: Iterator[tuple[dict[str, Any], _ImageAnnotations]],
    splits: dict[str, str],
    counts: CountsBuilder,
    diff: ManifestDiff | None,
    skipped_images: int,
    on_progress: Callable[[int], None],
) -> _Frozen:
    """Stream the images (in manifest order, with their annotations) into a stored manifest. What it holds at
    once: a batch of lines, the names given so far (export names must be unique), and `splits`."""
    out, path = scratch_file(".jsonl")
    digest, size, written = hashlib.sha256(), 0, 0
    taken: set[str] = set()

    def emit(data: bytes) -> None:
        nonlocal size
        out.write(data)
        digest.update(data)  # hashlib lets other threads run while it hashes a large buffer
        size += len(data)

    def flush(pending: list[tuple[dict[str, Any], _ImageAnnotations]]) -> None:
        nonlocal written
        # Outlines are stored with final annotations (annotation/outlines.py); the rest are traced here, together.
        untraced = [row for _, found in pending for row in found.rows if row["outline"] is None]
        traced = outline_texts_for_rles([json.loads(row["rle_text"]) for row in untraced])
        for row, text in zip(untraced, traced, strict=True):
            row["outline"] = text
        lines = []  # written at once: a batch's megabytes in one write and one hash update
        for image, found in pending:
            name = export_name(
                image["original_filename"],
                extension=image["file"].rsplit(".", 1)[-1],
                sha256=image["sha256"],
                taken=taken,
            )
            split = splits[image["sha256"]]
            if found.json is not None:
                annotations, classes = found.json, found.defect_classes
            else:
                annotations = ",".join(
                    manifest_annotation_json(row, rle_json=rle_json(row["rle_text"]), outline=row["outline"])
                    for row in found.rows
                )
                classes = [row["defect_class__name"] for row in found.rows]
            lines.append(manifest_image_json(image, name=name, split=split, annotations=annotations) + b"\n")
            counts.add(split=split, is_defect_free=image["is_defect_free"], defect_classes=classes)
            if diff is not None:
                diff.add(_diff_entry(image, annotations, name=name, split=split))
        emit(b"".join(lines))
        written += len(pending)
        on_progress(written)
        pending.clear()

    try:
        with out:
            emit(canonical_json(header) + b"\n")
            pending: list[tuple[dict[str, Any], _ImageAnnotations]] = []
            untraced = 0
            for image, found in images:
                # An image with no selected annotation and no defect-free judgement is unlabelled for this version
                # (e.g. all its defects are of other classes): it would teach "no defect", so it stays out.
                if found.is_empty and not image["is_defect_free"]:
                    continue
                pending.append((image, found))
                untraced += sum(row["outline"] is None for row in found.rows)
                if untraced >= OUTLINE_BATCH or len(pending) >= IMAGE_BATCH:
                    flush(pending)
                    untraced = 0
            flush(pending)
    except BaseException:
        os.unlink(path)
        raise
    key, content_hash = store_file(path, kind="manifests", extension="jsonl", sha256=digest.hexdigest())
    return _Frozen(
        content_hash=content_hash,
        manifest_key=key,
        size_bytes=size,
        counts=counts.result(skipped_images=skipped_images),
        diff=diff.result() if diff is not None else None,
    )


def _diff_entry(image: dict[str, Any], annotations: str, *, name: str, split: str) -> ImageEntry:
    """What ManifestDiff compares of an image line, from the line's parts: its annotations' JSON is read back (in
    C, as the previous manifest's lines are), not rebuilt from rows that PostgreSQL did not send."""
    return ImageEntry.from_line(
        {
            "sha256": image["sha256"],
            "name": name,
            "split": split,
            "status": image["status"],
            "is_defect_free": image["is_defect_free"],
            "annotations": line_decoded(b"[" + annotations.encode() + b"]"),
        }
    )


def _split_items(*, project: Project, selection: FreezeFilter) -> tuple[list[SplitItem], int]:
    """The images the version takes, as split_assign's items (their labels: their defect classes, or
    defect-free), and how many candidates it skips (labelled by nothing selected). One item a kept image;
    equal label sets share one frozenset."""
    items: list[SplitItem] = []
    skipped = 0
    labels_of: dict[Any, frozenset[str]] = {}
    for sha256, is_defect_free, classes in freeze_image_labels(project=project, selection=selection):
        if not classes and not is_defect_free:
            skipped += 1
            continue
        key = classes or (DEFECT_FREE,)
        labels = labels_of.setdefault(key, frozenset(key))
        items.append(SplitItem(key=sha256, labels=labels))
    return items, skipped


def _previous_splits(previous: DatasetVersion) -> dict[str, str]:
    """The previous version's image splits (sha256 -> split), from its manifest."""
    with storage.open_key(previous.manifest_key) as handle:
        return dict(manifest_splits(handle))


def dataset_version_freeze(
    *,
    project: Project,
    name: str,
    created_by: User | None,
    options: FreezeOptions | None = None,
    line_kind: str = LineKind.SAFETY_CRITICAL,
    job: JobContext | None = None,
) -> DatasetVersion:
    """Freeze the project's selected images and annotations as a new version, diffed against the latest one.

    Reads run in one consistent snapshot; the manifest is stored under its sha256 (the content hash) before the
    version's row is created, in one statement: a freeze stopped half-way leaves at most an unused manifest,
    never a version without one. Run by `job` (the job kind dataset_version_freeze), it reports progress, stops
    when cancelled, and is safe to run again: the version made by this job is looked up first, and the row's
    unique `job` keeps a second run from making a twin. Callers check the MANAGE_VERSIONS capability (the API
    and pages do; the command line runs as the operator)."""
    options = options or FreezeOptions()
    for _ in range(FREEZE_TRIES):
        if job is not None:
            made = DatasetVersion.objects.filter(job_id=job.job_id).first()
            if made is not None:
                return made
        try:
            return _freeze(
                project=project, name=name, created_by=created_by, options=options, line_kind=line_kind, job=job
            )
        except IntegrityError:
            # Looked up outside the freeze's snapshot, which cannot see the row it collided with.
            if DatasetVersion.objects.filter(project=project, name=name.strip()).exists():
                raise ValidationFailed(f"Another version named {name.strip()!r} was created meanwhile.") from None
            # A version frozen meanwhile took this one's number (or this job's version appeared): try again.
    raise ValidationFailed("Other versions of this project kept being created meanwhile; freeze again.")


def _freeze(
    *,
    project: Project,
    name: str,
    created_by: User | None,
    options: FreezeOptions,
    line_kind: str,
    job: JobContext | None,
) -> DatasetVersion:
    def progress(done: int, total: int | None, message: str) -> None:
        if job is not None:
            job.progress(done, total, message)
            job.check_cancelled()

    progress(0, None, "Reading the selection")
    with _consistent_snapshot() as is_own_snapshot:
        project = Project.objects.get(pk=project.pk)  # inside the snapshot: its taxonomy revision
        taxonomy = taxonomy_snapshot(project=project)
        known = [defect_class["name"] for defect_class in taxonomy["defect_classes"]]
        name = _validated(name=name, options=options, line_kind=line_kind, known_classes=known)
        ratios = split_ratios_check(dict(options.split_ratios))  # floats in split order: 1 and 1.0 hash alike
        if DatasetVersion.objects.filter(project=project, name=name).exists():
            raise ValidationFailed(f"This project already has a version named {name!r}.")
        chosen = None if options.defect_classes is None else set(options.defect_classes)
        categories = [class_name for class_name in known if chosen is None or class_name in chosen]
        selection = FreezeFilter(
            defect_classes=None if chosen is None else tuple(sorted(chosen)),
            image_statuses=tuple(sorted(set(options.image_statuses))),
            final_annotations_only=options.final_annotations_only,
            include_defect_free=options.include_defect_free,
        )
        items, skipped_images = _split_items(project=project, selection=selection)
        previous = dataset_version_latest(project=project)
        same_split_settings = previous is not None and (previous.seed, previous.split_ratios) == (options.seed, ratios)
        keep_splits = previous is not None and options.keep_previous_splits and same_split_settings
        fixed = _previous_splits(previous) if previous is not None and keep_splits else {}
        splits = split_assign(items, ratios=ratios, seed=options.seed, fixed=fixed)
        image_count = len(items)
        del items  # the splits say all that is left to know of them
        header = {
            "kind": "header",
            "manifest_format": MANIFEST_FORMAT,
            "taxonomy": taxonomy,
            "categories": categories,
            "filter": {
                "defect_classes": list(selection.defect_classes) if selection.defect_classes is not None else None,
                "image_statuses": list(selection.image_statuses),
                "final_annotations_only": selection.final_annotations_only,
                "include_defect_free": selection.include_defect_free,
            },
            "seed": options.seed,
            "split_ratios": ratios,
        }
        progress(0, image_count, "Writing the manifest")
        with contextlib.ExitStack() as stack:
            diff = None
            if previous is not None:  # read alongside the new manifest, in the same order
                _, previous_images = manifest_read(stack.enter_context(storage.open_key(previous.manifest_key)))
                diff = ManifestDiff(previous_images)
            frozen = _write_manifest(
                header=header,
                images=_with_annotations(
                    freeze_images(project=project, selection=selection), selection, is_own_snapshot=is_own_snapshot
                ),
                splits=splits,
                counts=CountsBuilder(categories=categories),
                diff=diff,
                skipped_images=skipped_images,
                on_progress=lambda done: progress(done, image_count, "Writing the manifest"),
            )
        progress(image_count, image_count, "Recording the version")
        with transaction.atomic():
            version = DatasetVersion.objects.create(
                project=project,
                number=(previous.number if previous else 0) + 1,
                name=name,
                previous=previous,
                filter=header["filter"],
                seed=options.seed,
                split_ratios=ratios,
                line_kind=line_kind,
                content_hash=frozen.content_hash,
                manifest_key=frozen.manifest_key,
                manifest_size_bytes=frozen.size_bytes,
                taxonomy=taxonomy,
                counts=frozen.counts,
                diff=frozen.diff,
                created_by=created_by,
                job_id=job.job_id if job is not None else None,
            )
    if job is not None:  # no cancel check from here: the version exists
        job.progress(image_count, image_count, f"Froze {image_count:,} images")
    return version


def dataset_version_freeze_start(
    *,
    project: Project,
    name: str,
    created_by: User | None,
    options: FreezeOptions | None = None,
    line_kind: str = LineKind.SAFETY_CRITICAL,
    queue: str | None = None,
    run_here: bool = False,
) -> Job:
    """Check the request (a bad name, class or split is refused now, not as a failed job) and start the freeze
    as a job; the version appears when it succeeds (its result: {"version_id": ...}). `run_here` runs the job
    in this process and returns it finished (the command line). Callers check the MANAGE_VERSIONS capability."""
    options = options or FreezeOptions()
    known = [defect_class["name"] for defect_class in taxonomy_snapshot(project=project)["defect_classes"]]
    name = _validated(name=name, options=options, line_kind=line_kind, known_classes=known)
    if DatasetVersion.objects.filter(project=project, name=name).exists():
        raise ValidationFailed(f"This project already has a version named {name!r}.")
    being_frozen = Job.objects.filter(
        project=project, kind=FREEZE_JOB_KIND, status__in=UNFINISHED_STATUSES, params__name=name
    )
    if being_frozen.exists():
        raise ValidationFailed(f"A version named {name!r} is being frozen already.")
    params = {"name": name, "line_kind": line_kind, "options": options.to_params()}
    if run_here:
        job = job_create(kind=FREEZE_JOB_KIND, project=project, created_by=created_by, params=params)
        return job_run(job_id=job.pk)
    return job_start(kind=FREEZE_JOB_KIND, project=project, created_by=created_by, params=params, queue=queue)
