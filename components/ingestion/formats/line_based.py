"""What the formats made of lines (CSV, JSON lines) share: ranges, reading, counting rows.

Such a file is cut into line-aligned byte ranges of about `config.range_bytes`
after its header (if any), and each range is read in chunks of whole lines; a
format only says how a chunk of lines becomes parsed columns (`read`'s `parse`).
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


def plan(file_layout: FileLayout, config: IngestionConfig, first_shard: int) -> list[ByteRange]:
    """Line-aligned byte ranges of about `config.range_bytes` covering the file's body."""
    size = files.size(file_layout.path)
    return plan_ranges(
        file_layout.path, file_layout.body_start, size, config.range_bytes, first_shard
    )


def read(
    byte_range: ByteRange, file_layout: FileLayout, config: IngestionConfig, parse: ParseChunk
) -> Iterator[OversizedLine | tuple[LineChunk, ParsedChunk]]:
    """Yields the range's lines as (chunk of lines, its columns by `parse`), and oversized lines."""
    for item in read_chunks(byte_range, config.chunk_bytes, config.max_line_bytes):
        if isinstance(item, OversizedLine):
            yield item
        else:
            yield item, parse(item, file_layout, config)


def count_rows(file_layout: FileLayout) -> int:
    """The file's rows: its non-blank lines after the header (if any)."""
    return count_rows_from(file_layout.path, file_layout.body_start)
