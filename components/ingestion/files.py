"""File access for local paths and remote URLs (gs://...) alike.

Local paths use the os module directly; anything with a scheme goes through
Beam's FileSystems. The split matters for speed, not behaviour: importing
Beam costs a local worker process about two seconds at start-up, as long
as ingesting 100,000 rows.
"""

from __future__ import annotations

import glob
import os
import shutil


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
    """Returns the files matching a glob pattern, sorted; a local folder means its *.<extension>."""
    if is_remote(pattern):
        filesystems, _ = _beam()
        found = filesystems.match([pattern])[0].metadata_list
        return sorted(m.path for m in found)
    if os.path.isdir(pattern):
        pattern = os.path.join(pattern, f"*.{extension}")
    return sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
