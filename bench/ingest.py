"""Ingestion throughput: 1,000 images (the shared magnetic-tile set repeated under new names, each copy made
distinct by a JPEG comment so none is a duplicate), imported with their masks through the same path as
`manage.py import_images --masks`: hashing, decoding, metadata, thumbnails, storage and database rows.

    python bench/ingest.py [--images 1000] [--database auto|postgres|sqlite]

Last line: {"images": N, "images_per_s": X}
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import SHARED_DATA, django_for_benchmark  # noqa: E402

JPEG_START = b"\xff\xd8"


def with_comment(jpeg: bytes, text: str) -> bytes:
    """The same picture with a COM segment: new bytes, new sha256, identical pixels."""
    payload = text.encode()
    return JPEG_START + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


def build_corpus(target: Path, count: int) -> None:
    originals = sorted(SHARED_DATA.glob("*/*.jpg"))
    if not originals:
        raise SystemExit(f"no images under {SHARED_DATA}")
    for index in range(count):
        source = originals[index % len(originals)]
        folder = target / source.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{source.stem}-copy{index:05d}"
        (folder / f"{name}.jpg").write_bytes(with_comment(source.read_bytes(), f"bench copy {index}"))
        mask = source.with_suffix(".png")
        if mask.exists():
            shutil.copyfile(mask, folder / f"{name}.png")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--database", choices=["auto", "postgres", "sqlite"], default="auto")
    arguments = parser.parse_args()
    vendor = django_for_benchmark(database=arguments.database)

    from datasets.demo import demo_project_seed
    from datasets.services.imports import images_import
    from datasets.sources import folder_entries, plan_sources

    project, _ = demo_project_seed()
    with tempfile.TemporaryDirectory(prefix="defectlab-ingest-corpus-") as corpus:
        build_corpus(Path(corpus), arguments.images)
        started = time.perf_counter()
        sources, rejections = plan_sources(folder_entries(Path(corpus)), with_masks=True)
        summary = images_import(project=project, sources=sources)
        seconds = time.perf_counter() - started
    if summary.imported != arguments.images or rejections or summary.rejected:
        raise SystemExit(f"expected {arguments.images} imports, got {summary.as_dict()}")
    print(f"database={vendor} imported={summary.imported} annotations={summary.annotations} seconds={seconds:.2f}")
    print(json.dumps({"images": summary.imported, "images_per_s": round(summary.imported / seconds, 1)}))


if __name__ == "__main__":
    main()
