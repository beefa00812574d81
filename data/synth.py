"""Synthetic taxi-like CSV of any size, for benchmarks and scale tests.

Rows of a real source CSV (by default the bundled taxi data) are resampled
with replacement. Measured quantities (the taxi spec's numeric features
and the label's source columns) get small multiplicative noise,
`value * (1 + scale * N(0, 1))`, so that repeated rows are not byte-identical;
everything else (codes such as hours, months, community areas, census tracts,
timestamps, and all text columns) is copied as-is, because jittering a code
invents ids that do not exist. `scale` is `noise` (1%) times
min(1, std / mean |value|) of the column: fares and distances get 1%, but a
latitude, whose values sit far from zero compared with their spread, gets
about 0.001% (tens of metres), not 1% (tens of kilometres). A jittered value:

- stays empty when the source cell is empty, so missing-value rates match;
- stays an integer in a column whose source values are all integers;
- is clipped to the column's observed [min, max] in the source, so it keeps
  its sign and stays inside the schema's value ranges;
- is rounded to the most decimals the column has in the source.

Rows are generated and written in chunks of `CHUNK_ROWS`, so memory does not
grow with `--rows`. Chunk `i` draws from its own
generator seeded with `(seed, i)`: the output depends only on the source,
`--rows` and `--seed`, and a shorter file with the same seed is a prefix of a
longer one.

    python -m data.synth --rows 1000000 --output /tmp/taxi_1m.csv [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SOURCE = Path(__file__).resolve().parent / "taxi" / "data.csv"
CHUNK_ROWS = 100_000
DEFAULT_NOISE = 0.01  # 1% relative noise: fares of 10.00 become about 9.90..10.10
_INT_TEXT = re.compile(r"^[+-]?[0-9]+$")


def taxi_jitter_columns() -> tuple[str, ...]:
    """Returns the taxi columns that are measurements: numeric features and label sources."""
    from components.dataset import load_spec

    taxi = load_spec(SOURCE.parent / "spec.yaml")
    names = [f.name for f in taxi.numeric] + list(taxi.label.source_columns)
    return tuple(dict.fromkeys(names))


@dataclasses.dataclass(frozen=True)
class _NumericColumn:
    """What the source says about one jittered column."""

    values: np.ndarray  # float64 per source row; NaN where the cell is empty
    is_integer: bool
    relative_spread: float  # min(1, std / mean |value|): scales the noise
    low: float
    high: float
    decimals: int


def _decimals(text: str) -> int:
    if "." not in text:
        return 0
    return len(text.split(".", 1)[1].rstrip())


def _numeric_column(name: str, cells: tuple[str, ...], source: Path) -> _NumericColumn:
    present = {c for c in cells if c != ""}  # distinct values: far fewer than rows
    try:
        text = np.array(cells)
        values = np.where(text == "", "nan", text).astype(np.float64)
    except ValueError as error:
        raise ValueError(
            f"{source}, column '{name}': cannot jitter a column with non-numeric values "
            f"({error}). Leave it out of --jitter."
        ) from None
    if not present:
        return _NumericColumn(values, True, 0.0, 0.0, 0.0, 0)
    mean_size = float(np.nanmean(np.abs(values)))
    spread = float(np.nanstd(values)) / mean_size if mean_size > 0 else 1.0
    return _NumericColumn(
        values=values,
        is_integer=all(_INT_TEXT.match(c) for c in present),
        relative_spread=min(1.0, spread),
        low=float(np.nanmin(values)),
        high=float(np.nanmax(values)),
        decimals=max(_decimals(c) for c in present),
    )


def _csv_cell(text: str, delimiter: str) -> str:
    """Quotes a copied cell only when it needs it, as the csv module would."""
    if any(ch in text for ch in (delimiter, '"', "\n", "\r")):
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="").writerow([text])
        return out.getvalue()
    return text


class TaxiLikeGenerator:
    """Resamples and jitters the rows of one source CSV.

    Args:
      source: The CSV to resample (header line plus rows).
      jitter: Columns to jitter; every other column is copied. Defaults to the
        taxi measurement columns present in the source.
      noise: Standard deviation of the relative noise. Defaults to `DEFAULT_NOISE`.

    Raises:
      ValueError: the source has no rows, a jitter column is not in the source,
        or it holds non-numeric values.
    """

    def __init__(
        self,
        source: Path = SOURCE,
        jitter: Sequence[str] | None = None,
        noise: float = DEFAULT_NOISE,
    ):
        with open(source, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        if len(rows) < 2:
            raise ValueError(f"{source}: needs a header line and at least one row to resample.")
        self.header = rows[0]
        body = [r for r in rows[1:] if r]
        bad = [i + 2 for i, r in enumerate(body) if len(r) != len(self.header)][:5]
        if bad:
            raise ValueError(
                f"{source}: line(s) {bad} do not have {len(self.header)} fields; "
                "repair the source first."
            )
        columns = list(zip(*body, strict=True))
        if jitter is None:
            jitter = [c for c in taxi_jitter_columns() if c in self.header]
        unknown = [c for c in jitter if c not in self.header]
        if unknown:
            raise ValueError(
                f"{source}: jitter column(s) {unknown} are not in the header "
                f"({', '.join(self.header)})."
            )
        self.noise = noise
        self.source_rows = len(body)
        self._numeric = {
            name: _numeric_column(name, columns[i], source)
            for i, name in enumerate(self.header)
            if name in jitter
        }
        # Copied columns are kept as ready-to-write CSV text, quoted once here.
        self._copied = {}
        for i, name in enumerate(self.header):
            if name not in jitter:
                quoted = {c: _csv_cell(c, ",") for c in set(columns[i])}
                self._copied[name] = pa.array([quoted[c] for c in columns[i]], pa.string())

    def _jittered(self, column: _NumericColumn, picks: np.ndarray, rng) -> pa.Array:
        base = column.values[picks]
        scale = self.noise * column.relative_spread
        # Always CHUNK_ROWS draws, so that a short last chunk is a prefix of a full one.
        noisy = base * (1.0 + scale * rng.standard_normal(CHUNK_ROWS)[: len(picks)])
        noisy = np.clip(noisy, column.low, column.high)
        missing = np.isnan(base)
        if column.is_integer:
            ints = np.rint(np.where(missing, 0.0, noisy)).astype(np.int64)
            return pc.cast(pa.array(ints, mask=missing), pa.string())
        rounded = pc.round(pa.array(noisy, mask=missing), ndigits=column.decimals)
        return pc.cast(rounded, pa.string())

    def chunk(self, rows: int, seed: int, index: int) -> bytes:
        """Returns `rows` CSV lines (no header) for chunk `index` of a run with `seed`."""
        rng = np.random.default_rng([seed, index])
        picks = rng.integers(0, self.source_rows, size=CHUNK_ROWS)[:rows]
        cells = []
        for name in self.header:
            if name in self._numeric:
                cells.append(self._jittered(self._numeric[name], picks, rng))
            else:
                cells.append(self._copied[name].take(pa.array(picks)))
        lines = pc.binary_join_element_wise(
            *cells, ",", null_handling="replace", null_replacement=""
        )
        return ("\n".join(lines.to_pylist()) + "\n").encode("utf-8")

    def write(self, output: Path, rows: int, seed: int = 0) -> int:
        """Writes a header line and `rows` rows to `output`; returns the rows written."""
        with open(output, "wb") as f:
            f.write((",".join(_csv_cell(h, ",") for h in self.header) + "\n").encode("utf-8"))
            for index, start in enumerate(range(0, rows, CHUNK_ROWS)):
                f.write(self.chunk(min(CHUNK_ROWS, rows - start), seed, index))
        return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `python -m data.synth --rows N --output FILE [--seed S] [--source CSV]`."""
    parser = argparse.ArgumentParser(
        prog="python -m data.synth", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, required=True, help="Rows to write (header excluded).")
    parser.add_argument("--output", type=Path, required=True, help="CSV file to write.")
    parser.add_argument("--seed", type=int, default=0, help="Random seed. Defaults to 0.")
    parser.add_argument(
        "--source", type=Path, default=SOURCE, help=f"CSV to resample. Defaults to {SOURCE}."
    )
    parser.add_argument(
        "--jitter",
        default=None,
        help="Comma-separated columns to jitter. Defaults to the taxi measurement columns.",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=DEFAULT_NOISE,
        help=f"Relative noise. Defaults to {DEFAULT_NOISE}.",
    )
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("--rows must be >= 0")
    jitter = args.jitter.split(",") if args.jitter else None
    started = time.perf_counter()
    try:
        generator = TaxiLikeGenerator(args.source, jitter=jitter, noise=args.noise)
    except (OSError, ValueError) as error:
        print(f"data.synth: {error}", file=sys.stderr)
        return 2
    args.output.parent.mkdir(parents=True, exist_ok=True)
    written = generator.write(args.output, args.rows, seed=args.seed)
    seconds = time.perf_counter() - started
    print(f"wrote {written} rows to {args.output} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
