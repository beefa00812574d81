"""Where a data set's raw rows are (`source`) and how they are split (`split`).

`SourceFormat` is the one list of input formats a spec may name; ingestion
reads each through its entry in its table of formats.
"""

from __future__ import annotations

import dataclasses
import enum
import math

from components.dataset.errors import SpecError

DEFAULT_DELIMITER = ","
_ESCAPED_TAB = "\\t"  # a tab written in single quotes or unquoted in YAML: backslash, t


class SourceFormat(str, enum.Enum):
    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"
    TFRECORD = "tfrecord"


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """Where the raw data is.

    Attributes:
      format: csv, parquet, jsonl or tfrecord.
      path: A file or folder, relative to the spec file's folder (or absolute, or gs://).
      pattern: Glob of the files inside `path` (inside each span folder with
        `spans`). Defaults to None: `path` itself, or `*.<format>` files in it.
      spans: Folder layout of spans inside `path`, with `{SPAN}` where the span
        number goes, e.g. `span-{SPAN}`. Defaults to None (no spans).
      delimiter: csv only: the one character between fields, e.g. `;`, `|`
        or a tab (`"\t"`, or `\t` unquoted). Defaults to `,`.
    """

    format: SourceFormat
    path: str
    pattern: str | None = None
    spans: str | None = None
    delimiter: str = DEFAULT_DELIMITER

    def __post_init__(self):
        if not self.path:
            raise SpecError("path", "must name a file or folder")
        if self.delimiter == _ESCAPED_TAB:
            object.__setattr__(self, "delimiter", "\t")
        if len(self.delimiter) != 1 or self.delimiter in '"\r\n':
            raise SpecError(
                "delimiter",
                f"must be one character other than a quote or a line break (e.g. ';', '|' or "
                f'"\\t" for a tab), got {self.delimiter!r}',
            )
        if self.delimiter != DEFAULT_DELIMITER and self.format is not SourceFormat.CSV:
            raise SpecError(
                "delimiter",
                f"applies to csv files only; remove it (source.format is {self.format.value})",
            )
        if self.spans is not None and (self.spans.count("{SPAN}") != 1 or "/" in self.spans):
            raise SpecError(
                "spans",
                f"must be one folder name with one {{SPAN}}, e.g. span-{{SPAN}}; got "
                f"{self.spans!r}",
            )

    @property
    def file_pattern(self) -> str | None:
        """Files to read relative to `path` (e.g. `span-{SPAN}/*.csv`); None when `path` is them."""
        if self.pattern is None and self.spans is None:
            return None
        pattern = self.pattern or f"*.{self.format.value}"
        return f"{self.spans}/{pattern}" if self.spans else pattern


@dataclasses.dataclass(frozen=True)
class SplitSpec:
    """How ingested rows are split into train / eval / test, by hash.

    Attributes:
      train: Fraction for training. Defaults to 0.7.
      eval: Fraction for early stopping and model selection. Defaults to 0.15.
      test: Fraction the Evaluator blesses on. Defaults to 0.15.
      key: Column whose value is hashed, so a row keeps its split when
        ingested again; None hashes the whole row. Defaults to None.
    """

    train: float = 0.7
    eval: float = 0.15
    test: float = 0.15
    key: str | None = None

    def __post_init__(self):
        for name in ("train", "eval", "test"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 < value < 1):
                raise SpecError(name, f"must be a fraction between 0 and 1, got {value}")
        total = self.train + self.eval + self.test
        if abs(total - 1.0) > 1e-6:
            raise SpecError("", f"train + eval + test must be 1, got {total:g}")

    def hash_buckets(self) -> tuple[int, int, int]:
        """The smallest whole numbers of hash buckets in these ratios (per mille precision).

        Returns:
          (train, eval, test) buckets, e.g. (14, 3, 3) for 0.7 / 0.15 / 0.15.
        """
        parts = [max(1, round(1000 * r)) for r in (self.train, self.eval, self.test)]
        divisor = math.gcd(*parts)
        return tuple(p // divisor for p in parts)
