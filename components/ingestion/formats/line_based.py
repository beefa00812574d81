"""What the formats made of lines (CSV, JSON lines) share: ranges, reading, counting rows.

Such a file is cut into line-aligned byte ranges of about `config.range_bytes`
after its header (if any), and each range is read in chunks of whole lines; a
format only says how a chunk of lines becomes parsed columns (`read`'s `parse`).
A ".gz" file is read decompressed, as one range; a ".gz" file that is not
GZIP or is cut short stops ingestion with an `IngestionError` naming it
(`files.gzip_errors_in_words`), never a codec's own exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from components.ingestion import files
from components.ingestion.chunks import ParsedChunk
from components.ingestion.layout import FileLayout
from components.ingestion.lines import (
    ByteRange,
    LineChunk,
    OversizedLine,
    count_rows_from,
    plan_ranges,
    read_chunks,
)
from components.ingestion.settings import IngestionConfig

ParseChunk = Callable[[LineChunk, FileLayout, IngestionConfig], ParsedChunk]


def check_readable(path: str) -> None:
    """Reads the first block of a ".gz" file, so a file that is not GZIP fails before any row.

    Raises:
      IngestionError: the file is not GZIP.
    """
    if files.is_gzip(path):
        with files.gzip_errors_in_words(path), files.open_content(path) as f:
            f.read(1 << 16)


def plan(file_layout: FileLayout, config: IngestionConfig, first_shard: int) -> list[ByteRange]:
    """Line-aligned byte ranges of about `config.range_bytes` covering the file's body
    (one range for a ".gz" file, whose content's size is not known before reading it)."""
    path = file_layout.path
    size = None if files.is_gzip(path) else files.size(path)
    return plan_ranges(path, file_layout.body_start, size, config.range_bytes, first_shard)


def read(
    byte_range: ByteRange, file_layout: FileLayout, config: IngestionConfig, parse: ParseChunk
) -> Iterator[OversizedLine | tuple[LineChunk, ParsedChunk]]:
    """Yields the range's lines as (chunk of lines, its columns by `parse`), and oversized lines.

    Raises:
      IngestionError: a ".gz" file is cut short or corrupt.
    """
    with files.gzip_errors_in_words(byte_range.path):
        for item in read_chunks(byte_range, config.chunk_bytes, config.max_line_bytes):
            if isinstance(item, OversizedLine):
                yield item
            else:
                yield item, parse(item, file_layout, config)


def count_rows(file_layout: FileLayout) -> int:
    """The file's rows: its non-blank lines after the header (if any).

    Raises:
      IngestionError: a ".gz" file is cut short or corrupt.
    """
    with files.gzip_errors_in_words(file_layout.path):
        return count_rows_from(file_layout.path, file_layout.body_start)
