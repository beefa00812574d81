"""The Evaluator alone: rows/s and peak memory of TFX's Evaluator as the pipeline configures it.

Takes the output folder of a finished `deepline run` (e.g. `benchmarks/scale.py --keep DIR`),
and runs TFX 1.16's Evaluator executor again in a child process exactly as the pipeline
configures it: the run's Trainer model, the test split of its ingested examples, the eval
config `components.evaluation.make_eval_config` builds from the spec (no bars given on the
command line: the trivial model's), the pipeline's Evaluator module (TF-DF's ops registered)
and its Beam arguments for that mode. No baseline model, as in a first run.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python benchmarks/evaluator.py --run DIR
        [--spec data/taxi/spec.yaml] [--mode in_memory] [--profile FILE] [--json FILE]
        [--keep DIR]

`--profile FILE` writes a cProfile of the child (`in_memory` only: other modes run the work
in worker processes the profile does not see). Rows/s counts the test rows over the
child's wall time, process start and imports included. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
from pathlib import Path

from measure import ROOT, measure
from scale import rows_read
from transform import MODES  # the pipeline's two DirectRunner modes, as Transform's bench runs them


def _latest(pattern: str) -> str:
    found = sorted(glob.glob(pattern), key=lambda path: int(Path(path).name))
    if not found:
        raise SystemExit(f"nothing matches {pattern}: is it the output folder of a finished run?")
    return found[-1]


def run_evaluator(run: str, spec_file: str, output: str, beam_args: list[str]) -> None:
    """In the child: TFX's Evaluator executor with the pipeline's properties."""
    from tfx.components.evaluator import executor
    from tfx.dsl.components.base import base_beam_executor
    from tfx.types import artifact_utils, standard_artifacts
    from tfx.types import standard_component_specs as keys
    from tfx.utils import proto_utils

    from components import dataset
    from components.blessing import BlessingThresholds
    from components.evaluation import make_eval_config
    from pipeline.config import PICKLE_LIBRARY_ARG
    from pipeline.pipeline import EVALUATOR_MODULE

    def artifact(kind, uri: str):
        made = kind()
        made.uri = uri
        return made

    examples = artifact(
        standard_artifacts.Examples, _latest(f"{run}/pipeline/CsvExampleGen/examples/*")
    )
    examples.split_names = artifact_utils.encode_split_names(["train", "eval", "test"])
    model = artifact(standard_artifacts.Model, _latest(f"{run}/pipeline/Trainer/model/*"))
    spec = dataset.load_spec(spec_file)
    context = base_beam_executor.BaseBeamExecutor.Context(
        beam_pipeline_args=[*beam_args, PICKLE_LIBRARY_ARG], tmp_dir=os.path.join(output, "tmp")
    )
    executor.Executor(context).Do(
        {keys.EXAMPLES_KEY: [examples], keys.MODEL_KEY: [model]},
        {
            keys.EVALUATION_KEY: [
                artifact(standard_artifacts.ModelEvaluation, os.path.join(output, "evaluation"))
            ],
            keys.BLESSING_KEY: [
                artifact(standard_artifacts.ModelBlessing, os.path.join(output, "blessing"))
            ],
        },
        {
            keys.EVAL_CONFIG_KEY: proto_utils.proto_to_json(
                make_eval_config(spec, BlessingThresholds())
            ),
            keys.EXAMPLE_SPLITS_KEY: json.dumps(["test"]),
            keys.MODULE_PATH_KEY: EVALUATOR_MODULE,
        },
    )


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="The output folder of a finished run.")
    parser.add_argument("--spec", type=Path, default=ROOT / "data" / "taxi" / "spec.yaml")
    parser.add_argument("--mode", choices=MODES, default="in_memory", help="Beam mode.")
    parser.add_argument("--profile", type=Path, help="Write a cProfile of the child here.")
    parser.add_argument("--json", type=Path, help="Also write the numbers to this JSON file.")
    parser.add_argument("--keep", type=Path, help="Write the evaluation here (a fresh folder).")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run, spec_file, output, mode = args.child
        run_evaluator(run, spec_file, output, MODES[mode])
        return 0
    if args.run is None:
        parser.error("--run DIR is required")
    if args.profile and args.mode != "in_memory":
        parser.error("--profile sees only the child process: use --mode in_memory")
    rows = rows_read(args.run)["Evaluator"]  # the test split, from the ingestion summary
    if not rows:
        raise SystemExit(f"no ingestion summary with a test split under {args.run}/pipeline")
    with tempfile.TemporaryDirectory(prefix="deepline-evaluator-bench-") as scratch:
        if args.keep:
            args.keep.mkdir(parents=True)  # fails on an existing folder: no mixed outputs
            scratch = str(args.keep.resolve())
        child = [__file__, "--child", str(args.run.resolve()), str(args.spec), scratch, args.mode]
        if args.profile:
            child = ["-m", "cProfile", "-o", str(args.profile.resolve()), *child]
        result = measure([sys.executable, *child])
        if result["returncode"] != 0:
            raise SystemExit(f"Evaluator failed:\n{result['stderr'][-4000:]}")
        blessed = os.path.exists(os.path.join(scratch, "blessing", "BLESSED"))
    numbers = {
        "mode": args.mode,
        "rows": rows,
        "seconds": result["seconds"],
        "cpu_seconds": result["cpu_seconds"],
        "rows_per_s": rows / result["seconds"],
        "peak_mb": result["peak_bytes"] / 1e6,
        "blessed": blessed,
    }
    print(f"\nEvaluator on {rows:,} test rows, {os.cpu_count()} cores")
    print("| Beam mode | rows | seconds | CPU seconds | rows/s | peak memory | blessed |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print(
        f"| {args.mode} | {rows:,} | {numbers['seconds']:.1f} | {numbers['cpu_seconds']:.1f} "
        f"| {numbers['rows_per_s']:,.0f} | {numbers['peak_mb']:,.0f} MB | {blessed} |"
    )
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
