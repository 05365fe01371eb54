"""Content-addressed file storage on Django's default storage (local disk or S3-compatible).

Keys derive from the sha256 of the bytes, so a key is written once and never changes; writes on local
disk go to a temporary file first and are renamed into place, so a crash never leaves half a file."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, cast

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage


def content_key(kind: str, sha256: str, extension: str) -> str:
    return f"{kind}/{sha256[:2]}/{sha256}.{extension}"


def store_bytes(key: str, data: bytes) -> bool:
    """Write `data` under `key` unless it is already there. True when this call wrote it."""
    if default_storage.exists(key):
        return False
    if isinstance(default_storage, FileSystemStorage):
        path = default_storage.path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        return True
    default_storage.save(key, ContentFile(data))
    return True


def delete_keys(keys: list[str]) -> None:
    for key in keys:
        default_storage.delete(key)


def read_bytes(key: str) -> bytes:
    with default_storage.open(key, "rb") as handle:
        return handle.read()


def open_key(key: str) -> BinaryIO:
    return cast(BinaryIO, default_storage.open(key, "rb"))


@contextmanager
def local_copy(key: str) -> Iterator[str]:
    """A path on local disk for `key` (the file itself on local storage, a temporary copy otherwise)."""
    if isinstance(default_storage, FileSystemStorage):
        yield default_storage.path(key)
        return
    with tempfile.NamedTemporaryFile(suffix=os.path.splitext(key)[1]) as copy, default_storage.open(key, "rb") as src:
        while chunk := src.read(1024 * 1024):
            copy.write(chunk)
        copy.flush()
        yield copy.name
