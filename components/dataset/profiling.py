"""What the first rows of a data file say about each column: the facts `inference` drafts from.

A `Sample` holds the rows as text cells (read by `components.ingestion.sample.read_sample`
from any input format); `profile_column` turns one column's cells into a `ColumnProfile`:
counts, whether every value is a (whole) number, the numbers' range, mean, spread and
skew, a string column's words per value, and the distinct values when they are few.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from components.dataset.source import SourceFormat

# Rows `init-spec` reads from the top of a file.
DEFAULT_SAMPLE_ROWS = 100_000
# Distinct values a profile lists: enough to name every class of a multiclass label.
MAX_LISTED_VALUES = 50

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@dataclasses.dataclass(frozen=True)
class ColumnProfile:
    """What the sample says about one column. Empty cells are missing values.

    Attributes:
      name: Column name.
      rows: Rows sampled.
      present: Rows with a value.
      distinct: Distinct values.
      numeric: Every value is a number.
      integral: Every value is a whole number (numeric columns).
      minimum, maximum, mean, std, skew: Of the values (numeric columns), else None.
      mean_tokens: Mean whitespace-separated words per value (string columns), else 0.
      p95_tokens: 95th percentile of words per value (string columns), else 0.
      distinct_tokens: Distinct lower-cased words (string columns), else 0.
      values: The distinct values, sorted (numerically for numbers), when at
        most `MAX_LISTED_VALUES`; else ().
    """

    name: str
    rows: int
    present: int
    distinct: int
    numeric: bool
    integral: bool = False
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    std: float | None = None
    skew: float | None = None
    mean_tokens: float = 0.0
    p95_tokens: int = 0
    distinct_tokens: int = 0
    values: tuple[str, ...] = ()

    @property
    def distinct_ratio(self) -> float:
        return self.distinct / self.present if self.present else 0.0


def _canonical(value: float, integral: bool) -> str:
    return str(int(value)) if integral else repr(float(value))


def profile_column(name: str, cells: list[str]) -> ColumnProfile:
    """Profiles one column's raw cells.

    Args:
      name: Column name.
      cells: The column's cells as read from the CSV; "" is a missing value.

    Returns:
      The column's profile.
    """
    present = [c.strip() for c in cells if c.strip()]
    common = dict(name=name, rows=len(cells), present=len(present), distinct=len(set(present)))
    if present and all(_NUMBER.fullmatch(c) for c in present):
        numbers = np.array([float(c) for c in present])
        integral = bool(np.all(np.isfinite(numbers)) and np.all(np.floor(numbers) == numbers))
        distinct = np.unique(numbers)
        std = float(numbers.std())
        centered = (numbers - numbers.mean()) / std if std > 0 else np.zeros_like(numbers)
        listed = len(distinct) <= MAX_LISTED_VALUES
        return ColumnProfile(
            **{**common, "distinct": len(distinct)},
            numeric=True,
            integral=integral,
            minimum=float(numbers.min()),
            maximum=float(numbers.max()),
            mean=float(numbers.mean()),
            std=std,
            skew=float(np.mean(centered**3)),
            values=tuple(_canonical(v, integral) for v in distinct) if listed else (),
        )
    tokens = [c.split() for c in present]
    counts = np.array([len(t) for t in tokens]) if tokens else np.zeros(1)
    vocabulary = {word.lower() for words in tokens for word in words}
    distinct = sorted(set(present))
    return ColumnProfile(
        **common,
        numeric=False,
        mean_tokens=float(counts.mean()),
        p95_tokens=int(np.percentile(counts, 95, method="higher")),
        distinct_tokens=len(vocabulary),
        values=tuple(distinct) if len(distinct) <= MAX_LISTED_VALUES else (),
    )


@dataclasses.dataclass(frozen=True)
class Sample:
    """The first rows of a data file, as the text of their cells, column by column.

    Attributes:
      path: The file.
      format: Its input format.
      columns: Column name -> one cell per row ("" for a missing value), in
        the file's column order; every column has the same number of cells.
      delimiter: CSV only: the delimiter the file uses. Defaults to ",".
    """

    path: str
    format: SourceFormat
    columns: dict[str, list[str]]
    delimiter: str = ","

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values()), []))


def read_profiles(sample: Sample) -> list[ColumnProfile]:
    """Profiles every column of a sample.

    Args:
      sample: The first rows of a file.

    Returns:
      One profile per column, in the file's order.

    Raises:
      ValueError: The sample has no column.
    """
    if not sample.columns:
        raise ValueError(f"{sample.path}: no column found in the first rows; is the file empty?")
    return [profile_column(name, cells) for name, cells in sample.columns.items()]
