"""The checked chunk every format's reader hands on: `ParsedChunk`, its `Failures`, line checks.

A reader turns a piece of its file into a `LineChunk` (the rows as lines of
text, `components.ingestion.lines`) and a `ParsedChunk` (the rows that passed
the format's own checks, as columns of raw cell texts, and the first failure
of each row that did not). The value checks, encoding, split and quarantine
downstream are the same for every format. `check_lines` are the checks every
line-based format (CSV, JSON lines) runs first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from components.ingestion.lines import LineChunk
from components.ingestion.settings import IngestionConfig

_PREVIEW_CHARS = 40


def preview(value: bytes | str) -> str:
    """Returns a short printable form of a value, for a quarantine reason."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="backslashreplace")
    if len(value) > _PREVIEW_CHARS:
        value = value[:_PREVIEW_CHARS] + "..."
    return repr(value)


class Failures:
    """The first failed check of each line of a chunk: a code and a human reason."""

    def __init__(self, size: int):
        self.failed = np.zeros(size, dtype=bool)
        self.reasons: dict[int, tuple[str, str]] = {}

    def add(self, mask: np.ndarray, check: str, reason: Callable[[int], str], lines=None) -> None:
        """Records `check` for lines where `mask` is set and nothing failed before.

        Args:
          mask: One flag per line, or per entry of `lines`.
          check: Short code of the check, e.g. "not_a_number".
          reason: Builds the reason for an index into `mask`.
          lines: Line index of each entry of `mask`; None when `mask` is per line.
        """
        lines = np.arange(len(mask)) if lines is None else lines
        new = np.flatnonzero(mask & ~self.failed[lines])
        for i in new:
            self.reasons[int(lines[i])] = (check, reason(int(i)))
        self.failed[lines[new]] = True

    def reject(self, line: int, check: str, reason: str) -> None:
        """Records `check` for one line, unless it failed before."""
        if not self.failed[line]:
            self.reasons[line] = (check, reason)
            self.failed[line] = True


@dataclasses.dataclass
class ParsedChunk:
    """The lines of a chunk that passed the line checks, as columns of raw bytes.

    Attributes:
      rows: Line index (in the chunk) of each parsed row, increasing.
      columns: Column name -> binary array with one value per row, for the
        spec columns present in the file.
      failures: The lines that failed, with reasons.
      blank: Number of blank lines (not rows).
    """

    rows: np.ndarray
    columns: dict[str, pa.Array]
    failures: Failures
    blank: int


def check_utf8(chunk: LineChunk, failures: Failures) -> None:
    """Rejects each line holding bytes that are not UTF-8, naming the first one."""
    if chunk.data.isascii():
        return
    try:
        chunk.data.decode("utf-8")
        return
    except UnicodeDecodeError:
        pass
    for i in range(len(chunk)):
        line = chunk.line(i)
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            failures.reject(
                i,
                "not_utf8",
                f"byte 0x{line[error.start]:02x} at position {error.start + 1} of the line is "
                "not UTF-8; save the file as UTF-8",
            )


def check_lines(chunk: LineChunk, config: IngestionConfig) -> tuple[Failures, np.ndarray]:
    """The checks every line-based format runs first: blank, too long, not UTF-8.

    Returns:
      The failures so far (a blank line counts as failed: it is skipped, not
      quarantined) and the mask of blank lines.
    """
    lengths = chunk.ends - chunk.starts
    blank = lengths == 0
    failures = Failures(len(chunk))
    failures.failed |= blank
    failures.add(
        lengths > config.max_line_bytes,
        "line_too_long",
        lambda i: (
            f"the line has {lengths[i]} bytes, more than max_line_bytes={config.max_line_bytes}"
        ),
    )
    check_utf8(chunk, failures)
    return failures, blank
