"""Dataset versions: freezing a project's labelled images into an immutable, content-hashed manifest."""

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction

from annotation.models import ImageStatus, Project
from datasets import storage
from datasets.job_kinds import FREEZE_JOB_KIND
from datasets.manifest import (
    DEFECT_FREE,
    MANIFEST_FORMAT,
    CountsBuilder,
    ManifestIndex,
    canonical_json,
    export_name,
    manifest_annotation_line,
    manifest_diff,
    manifest_geometry_line,
    manifest_image_line,
    manifest_read,
)
from datasets.models import DatasetVersion, LineKind
from datasets.outlines import edge_outlines_for_rles
from datasets.selectors import (
    FreezeFilter,
    dataset_version_latest,
    freeze_annotation_rows,
    freeze_image_rows,
    freeze_labels,
    taxonomy_snapshot,
)
from datasets.splits import DEFAULT_SPLIT_RATIOS, SplitItem, split_assign, split_ratios_check
from datasets.stored_files import scratch_file, store_file
from defectlab.errors import ValidationFailed
from defectlab.jobs.context import JobContext
from defectlab.jobs.models import UNFINISHED_STATUSES, Job
from defectlab.jobs.services import job_create, job_run, job_start
from defectlab.validation import integer_check, name_check

OUTLINE_BATCH = 256  # annotations traced together (datasets/outlines.py); bounds the freeze's working memory
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

    def to_params(self) -> dict:
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
    def from_params(cls, params: dict) -> "FreezeOptions":
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
def _consistent_snapshot() -> Iterator[None]:
    """A transaction whose reads all see one moment: edits saved while a freeze reads do not mix in halfway.

    PostgreSQL's default (READ COMMITTED) gives each query its own snapshot, so the freeze asks for REPEATABLE
    READ; that has to be the transaction's first statement, so an outer transaction (tests) keeps its own level.
    SQLite transactions read one snapshot anyway."""
    is_outermost = not connection.in_atomic_block
    with transaction.atomic():
        if is_outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


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
    counts: dict
    index: ManifestIndex


def _write_manifest(
    *,
    header: dict,
    images: list[dict],
    annotation_rows: Iterator[dict],
    splits: dict[str, str],
    names: dict[str, str],
    counts: CountsBuilder,
    skipped_images: int,
    on_progress: Callable[[int], None],
) -> _Frozen:
    """Stream images (in manifest order) merged with their annotations (same order) into a stored manifest."""
    out, path = scratch_file(".jsonl")
    digest, size, index, written = hashlib.sha256(), 0, ManifestIndex(), 0

    def emit(data: bytes) -> None:
        nonlocal size
        out.write(data)
        digest.update(data)
        size += len(data)

    def flush(pending: list[tuple[dict, list[dict]]]) -> None:
        nonlocal written
        rles = [json.loads(row["rle_text"]) for _, image_rows in pending for row in image_rows]
        outlines = iter(edge_outlines_for_rles(rles))
        next_rle = iter(rles)
        for image, image_rows in pending:
            annotations = [
                manifest_annotation_line(row, rle=next(next_rle), outline=next(outlines)) for row in image_rows
            ]
            line = manifest_image_line(
                image, name=names[image["sha256"]], split=splits[image["sha256"]], annotations=annotations
            )
            counts.add(line)
            index.add(line)
            emit(canonical_json(line) + b"\n")
            if image_rows:
                emit(manifest_geometry_line(image, image_rows))
        written += len(pending)
        on_progress(written)
        pending.clear()

    try:
        with out:
            emit(canonical_json(header) + b"\n")
            pending: list[tuple[dict, list[dict]]] = []
            pending_annotations = 0
            row = next(annotation_rows, None)
            for image in images:
                image_rows = []
                while row is not None and row["image_id"] == image["id"]:
                    image_rows.append(row)
                    row = next(annotation_rows, None)
                pending.append((image, image_rows))
                pending_annotations += len(image_rows)
                if pending_annotations >= OUTLINE_BATCH:
                    flush(pending)
                    pending_annotations = 0
            flush(pending)
            if row is not None:  # both streams come from one snapshot in one order: this is a bug, not bad data
                raise RuntimeError(f"annotation {row['id']} of image {row['image_id']} fell outside the merge")
    except BaseException:
        os.unlink(path)
        raise
    key, content_hash = store_file(path, kind="manifests", extension="jsonl", sha256=digest.hexdigest())
    return _Frozen(
        content_hash=content_hash,
        manifest_key=key,
        size_bytes=size,
        counts=counts.result(skipped_images=skipped_images),
        index=index,
    )


def _previous_index(previous: DatasetVersion) -> tuple[ManifestIndex, dict[str, str]]:
    """The previous version's diff index and its image splits, from its manifest."""
    with storage.open_key(previous.manifest_key) as handle:
        _, images = manifest_read(handle)
        index, splits = ManifestIndex(), {}
        for image in images:
            index.add(image)
            splits[image["sha256"]] = image["split"]
    return index, splits


def dataset_version_freeze(
    *,
    project: Project,
    name: str,
    created_by: AbstractBaseUser | None,
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
    created_by: AbstractBaseUser | None,
    options: FreezeOptions,
    line_kind: str,
    job: JobContext | None,
) -> DatasetVersion:
    def progress(done: int, total: int | None, message: str) -> None:
        if job is not None:
            job.progress(done, total, message)
            job.check_cancelled()

    progress(0, None, "Reading the selection")
    with _consistent_snapshot():
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
        candidates = freeze_image_rows(project=project, selection=selection)
        labels = freeze_labels(project=project, selection=selection)
        # An image in the selection with no selected annotation and no defect-free judgement is unlabelled for
        # this version (e.g. all its defects are of other classes): it would teach "no defect", so it stays out.
        images = [row for row in candidates if row["id"] in labels or row["is_defect_free"]]

        previous = dataset_version_latest(project=project)
        previous_index, previous_splits = _previous_index(previous) if previous else (None, {})
        same_split_settings = previous is not None and (previous.seed, previous.split_ratios) == (options.seed, ratios)
        fixed = previous_splits if options.keep_previous_splits and same_split_settings else {}
        splits = split_assign(
            [SplitItem(key=row["sha256"], labels=frozenset(labels.get(row["id"]) or {DEFECT_FREE})) for row in images],
            ratios=ratios,
            seed=options.seed,
            fixed=fixed,
        )
        taken: set[str] = set()
        names = {
            row["sha256"]: export_name(
                row["original_filename"], extension=row["file"].rsplit(".", 1)[-1], sha256=row["sha256"], taken=taken
            )
            for row in images
        }
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
        progress(0, len(images), "Writing the manifest")
        frozen = _write_manifest(
            header=header,
            images=images,
            annotation_rows=freeze_annotation_rows(project=project, selection=selection),
            splits=splits,
            names=names,
            counts=CountsBuilder(categories=categories),
            skipped_images=len(candidates) - len(images),
            on_progress=lambda done: progress(done, None, "Writing the manifest"),
        )
        progress(len(images), len(images), "Recording the version")
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
                diff=manifest_diff(previous_index, frozen.index) if previous_index else None,
                created_by=created_by,
                job_id=job.job_id if job is not None else None,
            )
    if job is not None:  # no cancel check from here: the version exists
        job.progress(len(images), len(images), f"Froze {len(images):,} images")
    return version


def dataset_version_freeze_start(
    *,
    project: Project,
    name: str,
    created_by: AbstractBaseUser | None,
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
