"""File access for local paths and remote URLs (gs://...) alike.

Local paths use the os module directly; anything with a scheme goes through
Beam's FileSystems. The split matters for speed, not behaviour: importing
Beam costs a local worker process about two seconds at start-up, as long
as ingesting 100,000 rows.

A file whose name ends in ".gz" is GZIP: `open_content` decompresses it,
and the offsets of its content are offsets in the decompressed stream.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import os
import shutil
import zlib
from collections.abc import Iterator

from components.ingestion.settings import IngestionError

GZIP_SUFFIX = ".gz"
# What reading a ".gz" file that is not GZIP (OSError), is cut short (EOFError) or holds
# corrupt data (zlib.error) raises.
GZIP_ERRORS = (OSError, EOFError, zlib.error)


def is_remote(path: str) -> bool:
    """True for a URL such as gs://bucket/file.csv."""
    return "://" in path


def _beam():
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    return FileSystems, CompressionTypes.UNCOMPRESSED


def join(folder: str, name: str) -> str:
    """Joins a folder and a relative name written with "/"."""
    if is_remote(folder):
        return folder.rstrip("/") + "/" + name
    return os.path.join(folder, *name.split("/"))


def open_read(path: str):
    """Opens `path` for binary reading, never decompressing (offsets are file offsets)."""
    if is_remote(path):
        filesystems, uncompressed = _beam()
        return filesystems.open(path, compression_type=uncompressed)
    return open(path, "rb")


def is_gzip(path: str) -> bool:
    """True for a file read through GZIP (its name ends in ".gz")."""
    return path.endswith(GZIP_SUFFIX)


@contextlib.contextmanager
def open_content(path: str) -> Iterator:
    """Opens `path` for binary reading of its content: a ".gz" file decompressed.

    A decompressed stream can seek (forward by reading, backward by reading
    again from the start), so readers use offsets in the content either way.
    Reading a ".gz" file that is not GZIP, or is cut short, raises `OSError`
    or `EOFError` or `zlib.error` (`GZIP_ERRORS`).
    """
    with open_read(path) as raw:
        if not is_gzip(path):
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield unzipped


def _unreadable(path: str, error: BaseException) -> IngestionError:
    """The error for a ".gz" file that cannot be decompressed, in words."""
    return IngestionError(
        f"{path}: cannot be read as GZIP ({error}); the file is cut short or is not "
        "GZIP-compressed. Compress it again (gzip), download it again, or remove the .gz "
        "ending if it is plain text."
    )


@contextlib.contextmanager
def gzip_errors_in_words(path: str) -> Iterator[None]:
    """Turns the decompression errors of a ".gz" file into one `IngestionError` naming it.

    Raises:
      IngestionError: reading `path`, a ".gz" file, raised one of `GZIP_ERRORS`.
    """
    try:
        yield
    except GZIP_ERRORS as error:
        if not is_gzip(path):
            raise
        raise _unreadable(path, error) from None


def open_write(path: str):
    """Creates `path` for binary writing, with its parent folders."""
    if is_remote(path):
        filesystems, uncompressed = _beam()
        return filesystems.create(path, compression_type=uncompressed)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return open(path, "wb")


def size(path: str) -> int:
    """Returns the size of `path` in bytes."""
    if is_remote(path):
        filesystems, _ = _beam()
        return filesystems.match([path])[0].metadata_list[0].size_in_bytes
    return os.path.getsize(path)


def exists(path: str) -> bool:
    """True if `path` (a file or folder) exists."""
    if is_remote(path):
        filesystems, _ = _beam()
        return filesystems.exists(path)
    return os.path.exists(path)


def delete(path: str) -> None:
    """Deletes a file, or a folder with its contents."""
    if is_remote(path):
        filesystems, _ = _beam()
        filesystems.delete([path])
    elif os.path.isdir(path):
        shutil.rmtree(path)
    else:
        os.remove(path)


def rename(source: str, target: str) -> None:
    """Moves `source` to `target`, replacing `target`."""
    if is_remote(source):
        filesystems, _ = _beam()
        if filesystems.exists(target):
            filesystems.delete([target])
        filesystems.rename([source], [target])
    else:
        os.replace(source, target)


def match(pattern: str, extension: str = "csv") -> list[str]:
    """Returns the files matching a glob pattern, sorted.

    A local folder means its `*.<extension>` files and their GZIP copies
    `*.<extension>.gz`.
    """
    if is_remote(pattern):
        filesystems, _ = _beam()
        found = filesystems.match([pattern])[0].metadata_list
        return sorted(m.path for m in found)
    patterns = [pattern]
    if os.path.isdir(pattern):
        patterns = [os.path.join(pattern, f"*.{extension}{suffix}") for suffix in ("", GZIP_SUFFIX)]
    return sorted({p for each in patterns for p in glob.glob(each) if os.path.isfile(p)})
