"""Export formats, one module each, registered by name: `@exporter("coco", version="1.0")`.

An exporter is a plain function `(source: ExportSource, out: BinaryIO) -> None`. It reads the version only
through `source` (the frozen manifest, streamed, and the stored image bytes), never the live tables, and writes
one file to `out`. The same source must give byte-identical output: fixed entry order, timestamps and
permissions in zips (datasets/exporters/archive.py), canonical JSON.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class ExportSource:
    """A frozen version as an exporter sees it."""

    version_name: str
    content_hash: str
    created_at: str  # ISO 8601, the version's creation time (not the export's: re-exports stay identical)
    project_name: str
    project_slug: str
    header: dict  # the manifest header: taxonomy, categories, filter, seed, split ratios
    images: Callable[[], Iterator[dict]]  # each call streams the manifest's image lines from the start
    open_image: Callable[[str], BinaryIO]  # storage key -> the stored original bytes
    with_images: bool
    on_progress: Callable[[int], None]  # called with the number of images written so far

    @property
    def categories(self) -> list[dict]:
        """The version's defect classes from the taxonomy snapshot, in order; ids count from 1."""
        by_name = {defect_class["name"]: defect_class for defect_class in self.header["taxonomy"]["defect_classes"]}
        return [{"id": index, **by_name[name]} for index, name in enumerate(self.header["categories"], start=1)]

    @property
    def splits(self) -> list[str]:
        """Splits the version uses (a ratio above 0), in the order train, val, test."""
        return [name for name, ratio in self.header["split_ratios"].items() if ratio > 0]


ExportFunction = Callable[[ExportSource, BinaryIO], None]


@dataclass(frozen=True)
class Exporter:
    name: str
    version: str  # bump when the output changes: cached exports of another version are rebuilt
    extension: str
    function: ExportFunction


EXPORTERS: dict[str, Exporter] = {}


def exporter(name: str, *, version: str, extension: str = "zip") -> Callable[[ExportFunction], ExportFunction]:
    def register(function: ExportFunction) -> ExportFunction:
        if name in EXPORTERS:
            raise ValueError(f"two exporters are named {name!r}")
        EXPORTERS[name] = Exporter(name=name, version=version, extension=extension, function=function)
        return function

    return register


def exporter_get(name: str) -> Exporter:
    """The exporter called `name`. Raises KeyError with the known names."""
    _load_formats()
    if name not in EXPORTERS:
        raise KeyError(f"unknown export format {name!r}; known: {', '.join(exporter_names())}")
    return EXPORTERS[name]


def exporter_names() -> list[str]:
    _load_formats()
    return sorted(EXPORTERS)


def _load_formats() -> None:
    # Importing the format modules registers them; local, as they import this module.
    from datasets.exporters import coco, masks, voc, yolo  # noqa: F401
