"""The outcome of an ingestion run: counts, the summary file and the quarantine limit.

`finalize` runs once, after every range: it joins the ranges' quarantine
parts, in file and line order, into `<output>/quarantine/rows.jsonl`,
writes `<output>/ingestion_summary.json` and returns the `IngestionResult`.
`enforce_limits` then raises if too many rows failed or there were none at
all; it runs after everything is written, so the quarantined rows are there
to look at when it does.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import time

from components.ingestion import files
from components.ingestion.files import join
from components.ingestion.layout import FileLayout
from components.ingestion.reader import QUARANTINE_FOLDER, RangeResult
from components.ingestion.settings import IngestionConfig, IngestionError, split_names
from pipeline import contracts

SUMMARY_NAME = contracts.INGESTION_SUMMARY_FILE
QUARANTINE_NAME = f"{QUARANTINE_FOLDER}/rows.jsonl"


@dataclasses.dataclass(frozen=True)
class IngestionResult:
    """Counts and timing of one run. Always rows_in == rows_written + rows_quarantined.

    Attributes:
      output_dir: Where the splits, quarantine and summary are.
      files: The input files.
      rows_in: Data rows read (blank lines are not rows).
      rows_written: Rows written as Examples, over all splits.
      rows_quarantined: Rows written to the quarantine file instead.
      rows_per_split: Split name -> rows written to it.
      quarantined_by_check: Check code -> rows that failed it.
      quarantine_file: The JSON-lines file of failed rows (empty if none).
      blank_lines: Blank lines skipped.
      ignored_columns: File -> header columns not in the spec (not in the Examples).
      absent_columns: File -> optional spec columns missing from its header.
      shards: Shards per split.
      seconds: Wall time from start to the summary.
      rows_per_second: rows_in / seconds.
      runner: "local" or "beam".
    """

    output_dir: str
    files: tuple[str, ...]
    rows_in: int
    rows_written: int
    rows_quarantined: int
    rows_per_split: dict[str, int]
    quarantined_by_check: dict[str, int]
    quarantine_file: str
    blank_lines: int
    ignored_columns: dict[str, list[str]]
    absent_columns: dict[str, list[str]]
    shards: int
    seconds: float
    rows_per_second: float
    runner: str

    @property
    def quarantined_fraction(self) -> float:
        """Fraction of rows quarantined (0 when there are no rows)."""
        return self.rows_quarantined / self.rows_in if self.rows_in else 0.0

    def to_json(self) -> str:
        """Returns the summary as JSON text."""
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> IngestionResult:
        """Reads a summary written by `to_json`."""
        fields = json.loads(text)
        fields["files"] = tuple(fields["files"])
        return cls(**fields)


def _copy_into(target, part: str) -> None:
    with files.open_read(part) as source:
        while block := source.read(1 << 20):
            target.write(block)


def finalize(
    results: list[RangeResult],
    layouts: list[FileLayout],
    output_dir: str,
    config: IngestionConfig,
    started: float,
    runner: str,
) -> IngestionResult:
    """Joins quarantine parts, writes the summary and returns the run's result.

    Args:
      results: One per range, in any order.
      layouts: One per input file, in input order.
      output_dir: The output folder.
      config: The ingestion settings.
      started: time.time() when the run started.
      runner: "local" or "beam", for the summary.

    Returns:
      The run's result (also written to `<output>/ingestion_summary.json`).
    """
    results = sorted(results, key=lambda r: r.shard)
    quarantine_file = join(output_dir, QUARANTINE_NAME)
    parts = [r.quarantine_part for r in results if r.quarantine_part]
    with files.open_write(quarantine_file) as target:
        for part in parts:
            _copy_into(target, part)
    for part in parts:
        files.delete(part)
    per_split = collections.Counter({name: 0 for name in split_names(config)})
    by_check: collections.Counter = collections.Counter()
    for r in results:
        per_split.update(r.rows_per_split)
        by_check.update(r.quarantined_by_check)
    rows_in = sum(r.rows_in for r in results)
    seconds = max(time.time() - started, 1e-9)
    result = IngestionResult(
        output_dir=output_dir,
        files=tuple(layout.path for layout in layouts),
        rows_in=rows_in,
        rows_written=sum(per_split.values()),
        rows_quarantined=sum(r.rows_quarantined for r in results),
        rows_per_split=dict(per_split),
        quarantined_by_check=dict(by_check.most_common()),
        quarantine_file=quarantine_file,
        blank_lines=sum(r.blank_lines for r in results),
        ignored_columns={x.path: list(x.ignored) for x in layouts if x.ignored},
        absent_columns={x.path: list(x.absent) for x in layouts if x.absent},
        shards=len(results),
        seconds=round(seconds, 3),
        rows_per_second=round(rows_in / seconds, 1),
        runner=runner,
    )
    if result.rows_in != result.rows_written + result.rows_quarantined:
        raise RuntimeError(f"Ingestion lost rows (a bug): {result}")
    with files.open_write(join(output_dir, SUMMARY_NAME)) as f:
        f.write(result.to_json().encode("utf-8"))
    return result


def read_result(output_dir: str) -> IngestionResult:
    """Reads `<output>/ingestion_summary.json`."""
    path = join(output_dir, SUMMARY_NAME)
    with files.open_read(path) as f:
        return IngestionResult.from_json(f.read().decode("utf-8"))


def enforce_limits(result: IngestionResult, config: IngestionConfig) -> None:
    """Raises when the run has no rows or quarantined more than allowed.

    Raises:
      IngestionError: no data rows at all; or the quarantined fraction is
        over `config.max_quarantined_fraction` (naming the quarantine file,
        the counts and the most common reasons).
    """
    if result.rows_in == 0:
        raise IngestionError(
            f"No data rows in {', '.join(result.files)}: the file(s) have a header line only. "
            "Check that the export wrote its rows."
        )
    if result.quarantined_fraction <= config.max_quarantined_fraction:
        return
    reasons = ", ".join(
        f"{check}: {n}" for check, n in list(result.quarantined_by_check.items())[:3]
    )
    raise IngestionError(
        f"{result.rows_quarantined} of {result.rows_in} rows ({result.quarantined_fraction:.2%}) "
        f"failed the checks, more than max_quarantined_fraction="
        f"{config.max_quarantined_fraction:.2%} ({reasons}). Each failed row, with its file, "
        f"line and reason, is in {result.quarantine_file}. Fix those rows at the source, or "
        "raise max_quarantined_fraction to accept the loss; the "
        f"{result.rows_written} good rows are written under {result.output_dir}."
    )
