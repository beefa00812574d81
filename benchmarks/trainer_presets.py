"""Trainer presets on the taxi data: steps and time to the goal's quality, and final quality.

Transform runs once (a `deepline run` into a scratch folder, or the folder of
an earlier run given with --run-dir); then every configuration below trains
on the same transformed train/eval splits through the Trainer's own `run_fn`,
one after the other in this process, from the same seed.

The baseline is a shallow ReLU net with plain Adam at a constant rate, its
output bias starting at 0, and early stopping: what one writes without the
deep-network techniques. For every configuration the table gives the
optimizer steps (and seconds of training) until the eval metrics first reach
each of two targets, measured
every `--eval-every` steps:

- the goal: eval accuracy >= 0.89 with AUC >= 0.94 (the default should get
  there in at most a third of the baseline's steps);
- the eval accuracy of the baseline's final model (the epoch early stopping
  kept), a stricter target: that accuracy is the best of a noisy curve;

and the eval accuracy and AUC of each final model.

    .venv/bin/python benchmarks/trainer_presets.py [--run-dir OUTPUT] [--only NAME ...] [--seed S]
        [--eval-every STEPS] [--extra JSON ...]

Prints a Markdown table and a JSON summary; nothing here is a test.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import runtime  # noqa: E402
from pipeline.contracts import HISTORY_FILE, HPARAMS_KEY  # noqa: E402

runtime.configure_environment()

EVAL_EVERY_STEPS = 5  # the default of --eval-every

# The goal of the default configuration: this quality, in a third of the baseline's steps.
GOAL_ACCURACY = 0.89
GOAL_AUC = 0.94

# Name -> HParams overrides. "default" is what `deepline run` trains.
CONFIGS = {
    "baseline: shallow ReLU, Adam, constant rate": {
        "preset": "shallow",
        "optimizer": "adam",
        "lr_schedule": "constant",
        "batch_size": 256,
        "learning_rate": 1e-3,
        "prior_output_bias": False,
    },
    "default (auto)": {},
    "shallow + 1cycle": {"preset": "shallow", "lr_schedule": "one_cycle"},
    "deep (4x128)": {"preset": "deep", "hidden_units": [128, 128, 128, 128]},
    "deep + 1cycle": {
        "preset": "deep",
        "hidden_units": [128, 128, 128, 128],
        "lr_schedule": "one_cycle",
    },
    "self_normalizing (256,128,64)": {"preset": "self_normalizing"},
    "self_normalizing (4x128)": {
        "preset": "self_normalizing",
        "hidden_units": [128, 128, 128, 128],
    },
    "low_latency (4x128)": {"preset": "low_latency", "hidden_units": [128, 128, 128, 128]},
    "risk_sensitive (4x128)": {"preset": "risk_sensitive", "hidden_units": [128, 128, 128, 128]},
}


def _transform_outputs(run_dir: Path) -> tuple[str, str, str]:
    """(transform graph, train shards, eval shards) of the newest Transform in `run_dir`."""

    def newest(pattern: str) -> str:
        matches = glob.glob(str(run_dir / "pipeline" / "Transform" / pattern))
        if not matches:
            raise SystemExit(f"No Transform output under {run_dir}: run `deepline run` first.")
        return max(matches, key=os.path.getmtime)

    examples = newest("transformed_examples/*")
    return (
        newest("transform_graph/*"),
        os.path.join(examples, "Split-train", "*"),
        os.path.join(examples, "Split-eval", "*"),
    )


class _EvalEvery:
    """Adds a callback to the Trainer's that measures eval accuracy every few steps."""

    def __init__(self, eval_ds, every: int):
        import tf_keras as keras

        from components.trainer import optimization

        self.trace: list[tuple[int, float, float]] = []
        make_callbacks = optimization.make_callbacks
        trace = self.trace

        class Probe(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                trace.clear()
                self.step = 0

            def on_train_batch_end(self, batch, logs=None):
                self.step += 1
                if self.step % every == 0:
                    metrics = self.model.evaluate(eval_ds, verbose=0, return_dict=True)
                    trace.append((self.step, metrics["accuracy"], metrics["auc"]))

        def with_probe(*args, **kwargs):
            return [*make_callbacks(*args, **kwargs), Probe()]

        optimization.make_callbacks = with_probe


def _eval_dataset(outputs: tuple[str, str, str]):
    import tensorflow_transform as tft

    from components.trainer import data

    graph, _, evaluation = outputs
    spec = tft.TFTransformOutput(graph).transformed_feature_spec()
    label = _taxi_spec().label_key
    return data.make_dataset([evaluation], spec, label, 1024, shuffle=False, seed=0)


def _taxi_spec():
    from components.dataset import load_spec

    return load_spec(ROOT / "data" / "taxi" / "spec.yaml")


def _train(
    name: str, overrides: dict, outputs: tuple[str, str, str], work: Path, probe: _EvalEvery
) -> dict:
    from components import dataset
    from components.trainer import run
    from components.trainer.hparams import HParams

    graph, train, evaluation = outputs
    folder = work / re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    fn_args = types.SimpleNamespace(
        train_files=[train],
        eval_files=[evaluation],
        transform_output=graph,
        serving_model_dir=str(folder / "serving"),
        model_run_dir=str(folder / "run"),
        base_model=None,
        custom_config={
            HPARAMS_KEY: HParams.from_dict(overrides).to_dict(),
            **dataset.to_custom_config(_taxi_spec()),
        },
    )
    started = time.perf_counter()
    run.run_fn(fn_args)
    seconds = time.perf_counter() - started
    history = json.loads((folder / "run" / HISTORY_FILE).read_text())
    return {"name": name, "seconds": seconds, "trace": list(probe.trace), **history}


def _or_never(value, spec: str = "") -> str:
    return "never" if value is None else format(value, spec)


def _steps_to(record: dict, accuracy: float, auc: float = 0.0) -> tuple[int | None, float | None]:
    """Steps (and share of the training seconds) until the eval accuracy first reaches
    `accuracy` with the eval AUC at least `auc`."""
    total_steps = record["epochs"] * record["steps_per_epoch"]
    for step, step_accuracy, step_auc in record["trace"]:
        if step_accuracy >= accuracy and step_auc >= auc:
            return step, step / total_steps * record["seconds"]
    return None, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-dir", type=Path, help="output of an earlier `deepline run`")
    parser.add_argument("--only", nargs="*", help="configuration names to run (substrings)")
    parser.add_argument("--seed", type=int, default=42, help="seed of every configuration")
    parser.add_argument(
        "--eval-every",
        type=int,
        default=EVAL_EVERY_STEPS,
        help=f"steps between eval accuracy measurements (default {EVAL_EVERY_STEPS})",
    )
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        type=json.loads,
        metavar="JSON",
        help='one more configuration: HParams overrides as JSON, e.g. {"batch_size": 1024}',
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="deepline-presets-"))
    run_dir = args.run_dir
    if run_dir is None:
        run_dir = work / "pipeline-run"
        subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "run", "--output", str(run_dir), "-q"],
            cwd=ROOT,
            check=False,
        )
    outputs = _transform_outputs(run_dir)

    configs = {
        name: {**overrides, "seed": args.seed}
        for name, overrides in CONFIGS.items()
        if not args.only or any(part in name for part in args.only)
    }
    configs.update({json.dumps(extra): {**extra, "seed": args.seed} for extra in args.extra})
    probe = _EvalEvery(_eval_dataset(outputs), args.eval_every)
    records = [_train(name, overrides, outputs, work, probe) for name, overrides in configs.items()]
    baseline = records[0]
    target = baseline["history"]["val_accuracy"][baseline["best_epoch"] - 1]
    print(
        f"\nTargets: the goal, eval accuracy >= {GOAL_ACCURACY} with AUC >= {GOAL_AUC}; and the "
        f"eval accuracy of the baseline's final model, {target:.4f}\n"
    )
    print(
        "| configuration | steps to goal | s to goal | steps to baseline's accuracy | epochs "
        "| s total | eval acc | AUC |"
    )
    print("|---|---|---|---|---|---|---|---|")
    summary = []
    for record in records:
        goal_steps, goal_seconds = _steps_to(record, GOAL_ACCURACY, GOAL_AUC)
        steps, seconds = _steps_to(record, target)
        best = record["best_epoch"] - 1
        accuracy = record["history"]["val_accuracy"][best]
        auc = record["history"]["val_auc"][best]
        print(
            f"| {record['name']} | {_or_never(goal_steps)} | {_or_never(goal_seconds, '.0f')} | "
            f"{_or_never(steps)} | {record['epochs']} | {record['seconds']:.0f} | "
            f"{accuracy:.4f} | {auc:.4f} |"
        )
        summary.append(
            {
                "name": record["name"],
                "steps_to_goal": goal_steps,
                "seconds_to_goal": goal_seconds,
                "steps_to_target": steps,
                "seconds_to_target": seconds,
                "epochs": record["epochs"],
                "seconds": record["seconds"],
                "eval_accuracy": accuracy,
                "eval_auc": auc,
                "hparams": record["hparams"],
                "trace": record["trace"],
            }
        )
    print(json.dumps({"target": target, "results": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
