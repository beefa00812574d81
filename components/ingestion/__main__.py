"""Command line for ingestion of the taxi data (or any CSV with the taxi columns).

    python -m components.ingestion INPUT [INPUT ...] --output DIR
        [--runner local|beam] [--workers N] [--max-quarantined-fraction F] [--overwrite]

Prints the summary as JSON; exits 1 with the error on stderr when ingestion
refuses the input (the outputs are still written when the limit is the reason).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from components.ingestion import RUNNERS, IngestionError, ingest, taxi_config


def main(argv: Sequence[str] | None = None) -> int:
    """Parses flags, runs ingestion with the taxi settings, prints the summary."""
    parser = argparse.ArgumentParser(prog="python -m components.ingestion")
    parser.add_argument("inputs", nargs="+", help="CSV files, glob patterns or folders.")
    parser.add_argument("--output", required=True, help="Output folder.")
    parser.add_argument("--runner", choices=RUNNERS, default="local", help="Defaults to local.")
    parser.add_argument("--workers", type=int, default=0, help="Local processes; 0: one per core.")
    parser.add_argument(
        "--max-quarantined-fraction", type=float, default=0.0, help="Defaults to 0.0."
    )
    parser.add_argument("--overwrite", action="store_true", help="Replace earlier output.")
    args, beam_args = parser.parse_known_args(argv)
    config = taxi_config(max_quarantined_fraction=args.max_quarantined_fraction)
    try:
        result = ingest(
            args.inputs,
            args.output,
            config,
            runner=args.runner,
            workers=args.workers,
            beam_args=beam_args or None,
            overwrite=args.overwrite,
        )
    except IngestionError as error:
        print(f"ingestion: {error}", file=sys.stderr)
        return 1
    print(result.to_json(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
