"""Dataset version freeze and COCO export at scale: 10,000 images and 30,000 annotations on PostgreSQL.

    python bench/export.py [--images 10000] [--annotations 30000]

How the data is made (set-up, not timed):
- the shared magnetic-tile set (428 images, 317 annotations) is imported for real, with its masks, through
  `images_import` into the demo project;
- the 426 final images (two "uneven" images have empty masks, so they stay "new" and out of versions) are
  repeated as new Image rows until --images final images exist: each copy points at the same stored files but
  has its own sha256 (the original's, hashed with the copy number) and file name, so every row is a distinct
  image to the version (content addressing is per row, not per file);
- each copy of a defective image gets its original's annotations (geometry, RLE, box, area, class: the real
  traced masks), repeated as often as needed to reach --annotations in all, with `bulk_create` (no audit
  entries, no re-derivation: the shapes are the ones ingestion derived). Repeats on one image overlap exactly,
  which costs the freeze and the export the same work as distinct defects.

What is timed:
- freeze: `dataset_version_freeze` (the same call as the API, the page and `create_version`), in this process;
- COCO export: `dataset_export_build(format="coco")` (what the worker's task runs) in a child process, so that
  the peak memory (`ru_maxrss`) is the exporting process's own: Django, its imports, the exporter and its
  buffers, not this process's set-up. Linux carries ru_maxrss over fork and exec, so the child is started first,
  while this process is still small, and waits for the version to export. The time covers the export alone
  (reading the manifest, writing and hashing the zip, storing it), not Django's start-up.

Last line: {"images": N, "annotations": N, "freeze_s": X, "coco_export_s": X, "peak_rss_mb": X}
"""

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BULK_BATCH = 2000  # rows per bulk_create statement


def replicate(project, *, images: int, annotations: int) -> tuple[int, int]:
    """Repeat the project's final images and their annotations up to the requested counts (see the docstring)."""
    from annotation.models import Annotation, Image, ImageStatus

    originals = list(Image.objects.filter(project=project, status=ImageStatus.FINAL).order_by("id"))
    by_image: dict[int, list[Annotation]] = {}
    for annotation in Annotation.objects.filter(image__project=project).order_by("id"):
        by_image.setdefault(annotation.image_id, []).append(annotation)
    copies = []
    for number in range(images - len(originals)):
        original = originals[number % len(originals)]
        stem, dot, extension = original.original_filename.rpartition(".")
        copies.append(
            Image(
                **{
                    field.attname: getattr(original, field.attname)
                    for field in Image._meta.concrete_fields
                    if field.attname not in ("id", "created_at")
                },
            )
        )
        copies[-1].sha256 = hashlib.sha256(f"{original.sha256}:copy{number}".encode()).hexdigest()
        copies[-1].original_filename = f"{stem}-copy{number:05d}{dot}{extension}"
    created = Image.objects.bulk_create(copies, batch_size=BULK_BATCH)
    source_of = {copy.pk: originals[number % len(originals)].pk for number, copy in enumerate(created)}
    defective = [copy for copy in created if by_image.get(source_of[copy.pk])]
    wanted = annotations - sum(len(found) for found in by_image.values())
    rows, index = [], 0
    while len(rows) < wanted and defective:
        copy = defective[index % len(defective)]
        for annotation in by_image[source_of[copy.pk]]:
            if len(rows) == wanted:
                break
            rows.append(
                Annotation(
                    image_id=copy.pk,
                    defect_class_id=annotation.defect_class_id,
                    severity_id=annotation.severity_id,
                    geometry=annotation.geometry,
                    area_px=annotation.area_px,
                    bbox_x=annotation.bbox_x,
                    bbox_y=annotation.bbox_y,
                    bbox_width=annotation.bbox_width,
                    bbox_height=annotation.bbox_height,
                    rle=annotation.rle,
                    outline=annotation.outline,
                    source=annotation.source,
                    author_id=annotation.author_id,
                    is_final=True,
                )
            )
        index += 1
    Annotation.objects.bulk_create(rows, batch_size=BULK_BATCH)
    final = Image.objects.filter(project=project, status=ImageStatus.FINAL)
    return final.count(), Annotation.objects.filter(image__in=final).count()


def child() -> None:
    """The exporting process: waits for the set-up's environment and the version id on stdin, builds the COCO
    export, and prints seconds and peak memory."""
    job = json.loads(sys.stdin.readline())
    os.environ.update(job["environment"])
    import django

    django.setup()
    version_id = job["version_id"]
    from datasets.models import DatasetVersion
    from datasets.services.exports import dataset_export_build

    version = DatasetVersion.objects.select_related("project").get(pk=version_id)
    started = time.perf_counter()
    export = dataset_export_build(version=version, export_format="coco", with_images=False)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_kib / 1024, "size_bytes": export.size_bytes}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--annotations", type=int, default=30_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child()
        return
    exporter = subprocess.Popen(  # started while this process is small: see the docstring
        [sys.executable, __file__, "--child"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )

    from bench._setup import SHARED_DATA, django_for_benchmark

    vendor = django_for_benchmark(database="postgres")
    from datasets.demo import demo_project_seed
    from datasets.services.imports import images_import
    from datasets.services.versions import dataset_version_freeze
    from datasets.sources import folder_entries, plan_sources

    project, _ = demo_project_seed()
    sources, _ = plan_sources(folder_entries(SHARED_DATA), with_masks=True)
    images_import(project=project, sources=sources)
    image_count, annotation_count = replicate(project, images=arguments.images, annotations=arguments.annotations)

    started = time.perf_counter()
    version = dataset_version_freeze(project=project, name="bench", created_by=None)
    freeze_seconds = time.perf_counter() - started

    environment = {
        name: os.environ[name]
        for name in ("DATABASE_URL", "DEFECTLAB_MEDIA_ROOT", "DEFECTLAB_VAR_DIR", "DEFECTLAB_SECRET_KEY")
    }
    environment["DJANGO_SETTINGS_MODULE"] = "defectlab.settings"
    output, _ = exporter.communicate(json.dumps({"environment": environment, "version_id": version.pk}) + "\n")
    if exporter.returncode:
        raise SystemExit(f"the exporting process failed ({exporter.returncode})")
    exported = json.loads(output.strip().splitlines()[-1])
    print(
        f"database={vendor} final images={image_count} annotations={annotation_count} "
        f"manifest={version.manifest_size_bytes / 1e6:.1f} MB coco_zip={exported['size_bytes'] / 1e6:.1f} MB"
    )
    print(
        json.dumps(
            {
                "images": version.counts["images"]["total"],
                "annotations": version.counts["annotations"]["total"],
                "freeze_s": round(freeze_seconds, 2),
                "coco_export_s": round(exported["seconds"], 2),
                "peak_rss_mb": round(exported["peak_rss_mb"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
