"""Finished local files into content-addressed storage, without reading them into memory.

datasets/storage.py writes bytes it is given; manifests and export zips are built in a local temporary file
(they can be gigabytes with images), hashed, then moved into place here under their sha256. On local disk the
move is a rename within the media folder, so a reader sees either no file or the whole file, never a part."""

import hashlib
import os
import shutil
import tempfile
from typing import BinaryIO

from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage

from datasets.storage import content_key

HASH_CHUNK_BYTES = 1024 * 1024


def scratch_file(suffix: str) -> tuple[BinaryIO, str]:
    """An open, empty local file to build into; on local storage it is created inside the media folder, so
    storing it is a rename, not a copy. The caller removes it (store_file does, when it succeeds)."""
    directory = None
    if isinstance(default_storage, FileSystemStorage):
        directory = default_storage.path("tmp")
        os.makedirs(directory, exist_ok=True)
    handle, path = tempfile.mkstemp(suffix=suffix, prefix=".partial-", dir=directory)
    return os.fdopen(handle, "w+b"), path


def sha256_of_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def store_file(path: str, *, kind: str, extension: str, sha256: str | None = None) -> tuple[str, str]:
    """Move the finished file at `path` to `kind/ab/<sha256>.<extension>`; (key, sha256). Content already
    stored is kept as it is (write-once) and `path` is removed either way."""
    sha256 = sha256 or sha256_of_file(path)
    key = content_key(kind, sha256, extension)
    try:
        if default_storage.exists(key):
            return key, sha256
        if isinstance(default_storage, FileSystemStorage):
            target = default_storage.path(key)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                os.replace(path, target)
            except OSError:  # another filesystem (a media folder split over mounts): copy, then rename
                partial = f"{target}.partial-{os.getpid()}"
                shutil.copyfile(path, partial)
                os.replace(partial, target)
        else:
            with open(path, "rb") as handle:
                default_storage.save(key, File(handle))
        return key, sha256
    finally:
        if os.path.exists(path):
            os.unlink(path)
