"""Output files: GZIP TFRecord shards in CsvExampleGen's layout, and quarantine records.

Shards are `<output>/Split-<name>/data_tfrecord-<shard>-of-<shards>.gz`, the
names CsvExampleGen gives them, so downstream TFX components read them as
they read its output. The TFRecord framing (length, masked CRC-32C of the
length, data, masked CRC-32C of the data) is written here, with the
hardware CRC-32C of google-crc32c, so that workers need not import
TensorFlow. Every file is written under a temporary name and renamed when
complete: a retried or killed worker never leaves a half-written shard
under a final name.
"""

from __future__ import annotations

import functools
import json
import struct
import zlib

import google_crc32c

from components.ingestion import files

_MASK_DELTA = 0xA282EAD8
_GZIP_WINDOW = 16 + zlib.MAX_WBITS  # zlib stream with a gzip header and trailer


_UINT32 = struct.Struct("<I").pack
_UINT64 = struct.Struct("<Q").pack


def _masked_crc(data: bytes) -> int:
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


@functools.lru_cache(maxsize=4096)
def _record_header(size: int) -> bytes:
    # Records of a chunk have few distinct sizes, so the length's CRC is mostly a cache hit.
    length = _UINT64(size)
    return length + _UINT32(_masked_crc(length))


def tfrecord_frame(records: list[bytes]) -> bytes:
    """Returns `records` framed as TFRecords, concatenated."""
    parts = []
    append = parts.append
    for record in records:
        append(_record_header(len(record)))
        append(record)
        append(_UINT32(_masked_crc(record)))
    return b"".join(parts)


def shard_name(split: str, shard: int, shards: int) -> str:
    """Returns the path, under the output folder, of one split's shard."""
    return f"Split-{split}/data_tfrecord-{shard:05d}-of-{shards:05d}.gz"


class _AtomicFile:
    """A file written under `<path>.tmp-<token>` and renamed to `path` on close."""

    def __init__(self, path: str, token: str):
        self.path = path
        self._temporary = f"{path}.tmp-{token}"
        self._file = files.open_write(self._temporary)

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def close(self) -> None:
        self._file.close()
        files.rename(self._temporary, self.path)  # a retried worker replaces its earlier shard

    def abort(self) -> None:
        self._file.close()
        files.delete(self._temporary)


class TFRecordShardWriter:
    """Writes serialized examples to one GZIP TFRecord shard.

    Args:
      path: The shard's final path.
      level: zlib compression level.
      token: Makes the temporary name unique to this attempt.
    """

    def __init__(self, path: str, level: int, token: str):
        self._file = _AtomicFile(path, token)
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WINDOW)
        self.records = 0

    def write(self, records: list[bytes]) -> None:
        """Appends `records` to the shard."""
        if records:
            self._file.write(self._compressor.compress(tfrecord_frame(records)))
            self.records += len(records)

    def close(self) -> None:
        """Finishes the gzip stream and moves the shard to its final name."""
        self._file.write(self._compressor.flush())
        self._file.close()

    def abort(self) -> None:
        """Drops the unfinished shard."""
        self._file.abort()


class QuarantineWriter:
    """Writes failed rows as JSON lines: {"file", "line", "check", "reason", "raw"}.

    The file is created on the first record only, so a clean range leaves none.

    Args:
      path: The final path of this range's quarantine part.
      token: Makes the temporary name unique to this attempt.
    """

    def __init__(self, path: str, token: str):
        self.path = path
        self._token = token
        self._file: _AtomicFile | None = None
        self.records = 0

    def write(self, record: dict) -> None:
        """Appends one record."""
        if self._file is None:
            self._file = _AtomicFile(self.path, self._token)
        self._file.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        self.records += 1

    def close(self) -> None:
        """Moves the part to its final name, if anything was written."""
        if self._file is not None:
            self._file.close()

    def abort(self) -> None:
        """Drops the unfinished part."""
        if self._file is not None:
            self._file.abort()
