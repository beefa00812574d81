"""One unit of ingestion work: a byte range, row group or file in, shards and quarantine out.

`ingest_range` reads the unit with its format's `read`
(`components.ingestion.formats.FORMATS`) as parsed chunks; each chunk's
values are checked (`checks`), its good rows encoded and written to this
unit's shard of every split, and its failed rows appended to this unit's
quarantine part. Both the local process pool and the Beam pipeline run this
same function, so their outputs are identical.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np
from tfx_bsl.coders.example_coder import RecordBatchToExamplesEncoder

from components.ingestion.checks import check_chunk
from components.ingestion.encode import encode_examples, split_of_rows
from components.ingestion.files import join
from components.ingestion.formats import get_format
from components.ingestion.layout import FileLayout
from components.ingestion.lines import RAW_PREVIEW_BYTES, ByteRange, OversizedLine, count_newlines
from components.ingestion.settings import IngestionConfig, split_names
from components.ingestion.writer import QuarantineWriter, TFRecordShardWriter, shard_name

QUARANTINE_FOLDER = "quarantine"


@dataclasses.dataclass(frozen=True)
class RangeTask:
    """A byte range with what a worker needs to process it.

    Attributes:
      byte_range: The lines to read.
      layout: The header layout of the range's file.
      shards: Number of ranges in the run (shards per split).
      output_dir: The output folder.
      token: Unique to the run; names temporary files.
    """

    byte_range: ByteRange
    layout: FileLayout
    shards: int
    output_dir: str
    token: str


@dataclasses.dataclass
class RangeResult:
    """Counts of one range; rows_in == sum(rows_per_split) + rows_quarantined."""

    path: str
    shard: int
    rows_in: int
    rows_per_split: dict[str, int]
    rows_quarantined: int
    quarantined_by_check: dict[str, int]
    blank_lines: int
    quarantine_part: str | None


def quarantine_part_name(shard: int) -> str:
    """Returns the path, under the output folder, of one range's quarantine part."""
    return f"{QUARANTINE_FOLDER}/part-{shard:05d}.jsonl"


def raw_text(line: bytes, size: int | None = None) -> str:
    """Returns a line as text for the quarantine record, shortened when very long."""
    size = len(line) if size is None else size
    text = line[:RAW_PREVIEW_BYTES].decode("utf-8", errors="backslashreplace")
    if size > RAW_PREVIEW_BYTES:
        text += f"... [cut: the line has {size} bytes]"
    return text


class _LineNumbers:
    """Absolute line numbers for a range; the lines before it are counted on first use."""

    def __init__(self, path: str):
        self._path = path
        self._base: int | None = None

    def number(self, line_in_range: int, offset: int, line_in_range_at_offset: int) -> int:
        if self._base is None:
            self._base = count_newlines(self._path, offset) - line_in_range_at_offset
        return self._base + line_in_range + 1


def ingest_range(task: RangeTask, config: IngestionConfig) -> RangeResult:
    """Checks, encodes and writes the rows of one byte range.

    Args:
      task: The range and where to write.
      config: The ingestion settings.

    Returns:
      The range's counts.
    """
    byte_range, layout = task.byte_range, task.layout
    input_format = get_format(config.format)
    names = split_names(config)
    shard_paths = [
        join(task.output_dir, shard_name(n, byte_range.shard, task.shards)) for n in names
    ]
    writers = [TFRecordShardWriter(p, config.compression_level, task.token) for p in shard_paths]
    part = join(task.output_dir, quarantine_part_name(byte_range.shard))
    quarantine = QuarantineWriter(part, task.token)
    numbers = _LineNumbers(byte_range.path)
    encoder = RecordBatchToExamplesEncoder()
    rows_in = blank = 0
    by_check: collections.Counter = collections.Counter()

    def reject(line_number: int, check: str, reason: str, raw: str) -> None:
        by_check[check] += 1
        record = {"file": byte_range.path, "line": line_number, "check": check}
        quarantine.write({**record, "reason": reason, "raw": raw})

    try:
        for item in input_format.read(byte_range, layout, config):
            if isinstance(item, OversizedLine):
                rows_in += 1
                number = numbers.number(item.line_in_range, item.offset, item.line_in_range)
                reason = (
                    f"the line has {item.size} bytes, more than "
                    f"max_line_bytes={config.max_line_bytes}"
                )
                reject(number, "line_too_long", reason, raw_text(item.preview, item.size))
                continue
            chunk, parsed = item
            checked = check_chunk(parsed, layout, config)
            rows_in += len(chunk) - parsed.blank
            examples = encode_examples(checked, encoder)
            split = split_of_rows(checked, chunk, parsed, config)
            for k, writer in enumerate(writers):
                writer.write([examples[i] for i in np.flatnonzero(split == k).tolist()])
            for line, (check, reason) in sorted(checked.failures.reasons.items()):
                if input_format.has_lines:
                    number = numbers.number(chunk.first_line + line, chunk.offset, chunk.first_line)
                else:  # the row's position in the file
                    number = chunk.first_line + line + 1
                reject(number, check, reason, raw_text(chunk.line(line)))
            blank += parsed.blank
    except BaseException:
        for writer in writers:
            writer.abort()
        quarantine.abort()
        raise
    for writer in writers:
        writer.close()
    quarantine.close()
    return RangeResult(
        path=byte_range.path,
        shard=byte_range.shard,
        rows_in=rows_in,
        rows_per_split={n: w.records for n, w in zip(names, writers, strict=True)},
        rows_quarantined=quarantine.records,
        quarantined_by_check=dict(by_check),
        blank_lines=blank,
        quarantine_part=part if quarantine.records else None,
    )
