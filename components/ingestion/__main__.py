"""Command line for ingestion alone, of any data set with a spec (the taxi data by default).

    python -m components.ingestion INPUT [INPUT ...] --output DIR [--spec SPEC]
        [--runner local|beam] [--workers N] [--max-quarantined-fraction F] [--overwrite]

The columns come from the spec's curated schema when it names one, else from
the spec itself; the split from the spec.

Prints the summary as JSON; exits 1 with the error on stderr when ingestion
refuses the input (the outputs are still written when the limit is the reason).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from components import dataset
from components.ingestion import RUNNERS, IngestionError, ingest
from components.ingestion.dataset import spec_config

TAXI_SPEC = Path(__file__).resolve().parents[2] / "data" / "taxi" / "spec.yaml"


def main(argv: Sequence[str] | None = None) -> int:
    """Parses flags, runs ingestion with the spec's settings, prints the summary."""
    parser = argparse.ArgumentParser(prog="python -m components.ingestion")
    parser.add_argument("inputs", nargs="+", help="CSV files, glob patterns or folders.")
    parser.add_argument("--output", required=True, help="Output folder.")
    parser.add_argument(
        "--spec", default=str(TAXI_SPEC), help="Data set spec. Defaults to the bundled taxi spec."
    )
    parser.add_argument("--runner", choices=RUNNERS, default="local", help="Defaults to local.")
    parser.add_argument("--workers", type=int, default=0, help="Local processes; 0: one per core.")
    parser.add_argument(
        "--max-quarantined-fraction", type=float, default=0.0, help="Defaults to 0.0."
    )
    parser.add_argument("--overwrite", action="store_true", help="Replace earlier output.")
    args, beam_args = parser.parse_known_args(argv)
    try:
        config = spec_config(
            dataset.load_spec(args.spec), max_quarantined_fraction=args.max_quarantined_fraction
        )
        result = ingest(
            args.inputs,
            args.output,
            config,
            runner=args.runner,
            workers=args.workers,
            beam_args=beam_args or None,
            overwrite=args.overwrite,
        )
    except (IngestionError, dataset.SpecError) as error:
        print(f"ingestion: {error}", file=sys.stderr)
        return 1
    print(result.to_json(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
