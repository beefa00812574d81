"""Line-aligned byte ranges of text files (CSV, JSON lines), read as a stream of whole-line chunks.

A file is cut at fixed byte offsets; a range owns every line that *starts*
inside it, so ranges can be read independently (on different workers) and
together see each line exactly once. A record is one line: a quoted value
may hold the delimiter but not a newline. (CsvExampleGen joins lines until
their quotes balance, which needs each file read from its start by one
worker; here the pieces of a value spanning lines fail as bad quoting, each
quarantined, so nothing is lost silently.)

Reading streams in chunks of about `chunk_bytes`; a line longer than
`max_line_bytes` is skipped without being held in memory and reported as an
oversized line. Line numbers are absolute (the header is line 1); a range
learns how many lines precede it only when it first needs a number (to
quarantine a row), because counting means reading the file up to the range.
Paths may be local or remote (gs://), see `files`. A ".gz" file is read
decompressed, offsets counting bytes of its content; its size is unknown
without reading it all, so it is one range (`plan_ranges`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from components.ingestion import files

_READ_BYTES = 1 << 20  # block size for skipping and counting
UNBOUNDED = 1 << 62  # the end of a range reaching the end of a file of unknown size
RAW_PREVIEW_BYTES = 10_000  # bytes of an oversized line kept for the quarantine record


@dataclasses.dataclass(frozen=True)
class ByteRange:
    """Lines of `path` starting at a byte offset in [start, end); one unit of work.

    Formats without lines use the same unit with their own meaning of the
    offsets (a Parquet row group, a whole TFRecord file).

    Attributes:
      path: The file.
      start: First byte offset owned (after the header line for the first range).
      end: One past the last byte offset owned.
      shard: Index of this range among all ranges of the run; names its shards.
    """

    path: str
    start: int
    end: int
    shard: int


@dataclasses.dataclass
class LineChunk:
    """Whole lines read from a range.

    Attributes:
      data: The bytes of the lines, newlines included.
      starts: Offset in `data` where each line starts.
      ends: Offset in `data` where each line's text ends (before "\\r\\n" or "\\n").
      first_line: Index, within the range, of the first line.
      offset: Offset in the file of `data[0]`.
    """

    data: bytes
    starts: np.ndarray
    ends: np.ndarray
    first_line: int
    offset: int

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, i: int) -> bytes:
        """Returns the text of line `i` of the chunk, without its line ending."""
        return self.data[self.starts[i] : self.ends[i]]


@dataclasses.dataclass(frozen=True)
class OversizedLine:
    """A line longer than the limit: where it is and how it starts."""

    line_in_range: int
    offset: int
    size: int
    preview: bytes


def read_first_line(path: str, max_line_bytes: int) -> tuple[bytes, int]:
    """Returns the first line of `path` (without line ending) and the offset after it.

    Raises:
      ValueError: the first line is longer than `max_line_bytes`.
    """
    with files.open_content(path) as f:
        head = b""
        while True:
            block = f.read(_READ_BYTES)
            head += block
            newline = head.find(b"\n")
            if newline >= 0:
                return head[:newline].rstrip(b"\r"), newline + 1
            if not block:
                return head.rstrip(b"\r"), len(head)
            if len(head) > max_line_bytes:
                raise ValueError(f"{path}: the header line is longer than {max_line_bytes} bytes.")


def plan_ranges(
    path: str, body_start: int, size: int | None, range_bytes: int, first_shard: int
) -> list[ByteRange]:
    """Returns the byte ranges covering `[body_start, size)` of one file.

    Args:
      path: The file.
      body_start: Offset of the first data line (after the header).
      size: File size in bytes; None when unknown (a ".gz" file's content):
        then the file is one range, from `body_start` to its end.
      range_bytes: About how many bytes a range covers.
      first_shard: Shard index of the first range.

    Returns:
      A list of `ByteRange`, empty when the file has no bytes after its header.
    """
    if size is None:
        return [ByteRange(path, body_start, UNBOUNDED, first_shard)]
    ranges = []
    start = body_start
    while start < size:
        end = min(size, start + range_bytes)
        ranges.append(ByteRange(path, start, end, first_shard + len(ranges)))
        start = end
    return ranges


def count_newlines(path: str, end: int) -> int:
    """Returns the number of newlines in the first `end` bytes of `path`."""
    count = 0
    with files.open_content(path) as f:
        remaining = end
        while remaining > 0:
            block = f.read(min(_READ_BYTES * 8, remaining))
            if not block:
                break
            count += block.count(b"\n")
            remaining -= len(block)
    return count


def count_rows_from(path: str, start: int) -> int:
    """Returns the number of non-blank lines of `path` from byte offset `start` on."""
    with files.open_content(path) as f:
        f.seek(start)
        return sum(1 for line in f if line.strip())


def _skip_to_line_start(f, position: int) -> int:
    """Reads past the rest of the line containing `position - 1`; returns the next line's offset."""
    if position == 0:  # the start of the file is a line start (a file without header)
        f.seek(0)
        return 0
    f.seek(position - 1)
    if f.read(1) == b"\n":
        return position
    while True:
        block = f.read(_READ_BYTES)
        if not block:
            return position
        newline = block.find(b"\n")
        if newline >= 0:
            position += newline + 1
            f.seek(position)
            return position
        position += len(block)


def _line_bounds(data: bytes, offset: int, limit: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Finds the lines of `data` (which starts at file offset `offset`).

    Returns:
      Start and end offsets in `data` of the lines starting before file offset
      `limit`, and how many bytes of `data` those lines take (less than
      `len(data)` when lines starting at or after `limit` were left out).
    """
    array = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(array == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(data)]))
    if starts[-1] == len(data):  # data ends with a newline: no partial line after it
        starts, ends = starts[:-1], ends[:-1]
    kept = int(np.searchsorted(starts, limit - offset))
    used = int(starts[kept]) if kept < len(starts) else len(data)
    starts, ends = starts[:kept], ends[:kept]
    if len(ends):
        carriage = (ends > starts) & (array[np.maximum(ends - 1, 0)] == 13)
        ends = ends - carriage
    return starts.astype(np.int64), ends.astype(np.int64), used


def read_chunks(
    byte_range: ByteRange, chunk_bytes: int, max_line_bytes: int
) -> Iterator[LineChunk | OversizedLine]:
    """Yields the range's lines as chunks of whole lines, and oversized lines, in file order.

    Args:
      byte_range: The range to read.
      chunk_bytes: About how many bytes a chunk holds.
      max_line_bytes: Longer lines are yielded as `OversizedLine`, not read whole.

    Yields:
      `LineChunk`s and `OversizedLine`s; line indices count from 0 at the range's first line.
    """
    line_index = 0
    with files.open_content(byte_range.path) as f:
        position = _skip_to_line_start(f, byte_range.start)
        pending = b""  # bytes of an unfinished line, starting at `position`
        while position < byte_range.end:
            block = f.read(chunk_bytes)
            data = pending + block
            last_newline = data.rfind(b"\n")
            if block and last_newline < 0 and len(data) <= max_line_bytes:
                pending = data  # no whole line yet
                continue
            if block and last_newline < 0:
                oversized, position = _skip_oversized(f, data, position)
                yield dataclasses.replace(oversized, line_in_range=line_index)
                line_index += 1
                pending = b""
                continue
            whole = data if not block else data[: last_newline + 1]
            pending = b"" if not block else data[last_newline + 1 :]
            starts, ends, used = _line_bounds(whole, position, byte_range.end)
            if len(starts):
                yield LineChunk(whole[:used], starts, ends, line_index, position)
                line_index += len(starts)
            if used < len(whole) or not block:
                return  # a line starting past the range's end, or the end of the file
            position += len(whole)


def _skip_oversized(f, data: bytes, position: int):
    """Reads past a line over the limit; returns it as an OversizedLine, and the next offset."""
    preview = bytearray(data[:RAW_PREVIEW_BYTES])
    size = len(data)  # bytes of the line so far, its newline excluded
    last_byte = data[-1:]
    while True:
        block = f.read(_READ_BYTES)
        newline = block.find(b"\n")
        text = block if newline < 0 else block[:newline]
        preview += text[: max(0, RAW_PREVIEW_BYTES - len(preview))]
        size += len(text)
        last_byte = text[-1:] or last_byte
        if newline >= 0 or not block:
            break
    next_line = position + size + (1 if newline >= 0 else 0)
    f.seek(next_line)
    if last_byte == b"\r":  # a "\r\n" line ending is not part of the line
        size -= 1
        if len(preview) > size:
            del preview[size:]
    line = OversizedLine(line_in_range=-1, offset=position, size=size, preview=bytes(preview))
    return line, next_line
