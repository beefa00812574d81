"""One way to build the run configuration: command-line options -> `PipelineConfig`.

`config_from_args(args)` serves every command that runs or compiles the pipeline
(`deepline run`, `schedule`, `compile`, `deploy`), and the DAG files `compile --target
airflow` writes, which call it on their baked command line; `deepline ingest` reads its data
set with `load_dataset` and `dataset_settings`. This is the edge where things are
read, once: the data set spec (parsed here and held by the config, so the pipeline
factory reads no file), the size of the input (whether Beam runs in this process)
and the hash of the module code. The hyperparameters are resolved here too, once,
to refuse contradictions now rather than in the Trainer an hour later.

Every error a user can cause is a ValueError saying what to pass instead.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import re
from pathlib import Path

import data
from components.blessing import BlessingThresholds
from components.dataset import DatasetSpec, load_spec
from components.drift.settings import DriftCheck, resolve_drift_check
from components.trainer import families
from components.trainer.hparams import HParams
from pipeline import config as config_lib
from pipeline.runners import beam_options as beam_lib

# The commands whose pipeline is compiled for an orchestrator (`pipeline.cloud_arguments`);
# the others run it here (`pipeline.arguments`' run options).
COMPILED_COMMANDS = ("compile", "deploy")
# The orchestrators a pipeline is compiled for (`--target`). Vertex AI and Kubeflow run it in
# the cloud, in containers; Airflow runs it on its own workers, with this machine's options:
# Beam's, the cache's, the quarantine's (as `deepline run` does).
CLOUD_TARGETS = ("vertex", "kubeflow")
AIRFLOW_TARGET = "airflow"


def config_from_args(args: argparse.Namespace) -> config_lib.PipelineConfig:
    """Builds the typed PipelineConfig, with absolute paths, from parsed arguments.

    Args:
      args: The options of `deepline run` or `schedule` (run here), of `compile`
        or `deploy` (compiled for Vertex AI / Kubeflow: the output folder is
        `--pipeline-root`, the Trainer may run as a custom job), or of `compile
        --target airflow` (run on Airflow's workers as `run` runs here, writing
        to `--pipeline-root`).

    Returns:
      The run configuration.

    Raises:
      ValueError: an unknown data set, an invalid or unsupported spec, options
        that contradict each other (e.g. Dataflow without a project, a Trainer
        job without a project or on Airflow) or invalid hyperparameters.
    """
    compiled = args.command in COMPILED_COMMANDS
    dataset = dataset_fields(args)
    if compiled and args.target in CLOUD_TARGETS:
        placement = {
            "cloud_training": cloud_training_from_args(args),
            "output_dir": args.pipeline_root,
        }
    else:
        if compiled and (args.trainer_machine_type or args.trainer_accelerator):
            raise ValueError(
                "An Airflow task trains on its Airflow worker: --trainer-machine-type and "
                "--trainer-accelerator (a Vertex AI custom job) are for --target vertex."
            )
        placement = {
            "output_dir": args.pipeline_root if compiled else args.output,
            "beam_args": beam_args_from_args(args, dataset["data_root"], dataset["data_pattern"]),
            "enable_cache": not args.no_cache,
            "max_quarantined_fraction": args.max_quarantined_fraction,
            "drift": drift_check_from_args(args, dataset["dataset"], dataset["schema"]),
        }
    return config_lib.PipelineConfig(
        **dataset,
        **placement,
        code_fingerprint=module_code_fingerprint(),
        **tunable_fields(args, dataset["dataset"]),
    ).absolute()


def load_dataset(args: argparse.Namespace) -> DatasetSpec:
    """The data set spec `--dataset` (bundled) or `--spec` (one's own) names, parsed.

    Raises:
      ValueError: no such bundled data set, a spec that cannot be read, or an
        invalid one (`SpecError`, naming the file and the field).
    """
    spec_file = str(args.spec or data.spec_path(args.dataset or data.DEFAULT_DATASET))
    try:
        return load_spec(config_lib.absolute_path(spec_file))
    except OSError as error:
        raise ValueError(f"cannot read the data set spec {spec_file}: {error}") from None


def dataset_fields(args: argparse.Namespace) -> dict:
    """PipelineConfig fields of the data set: the parsed spec and what it says of the run,
    with --data / --schema / --pipeline-name replacing what it says.

    Raises:
      ValueError: no such bundled data set; a spec that is invalid, unsupported or
        has a source format ingestion cannot read.
    """
    dataset = load_dataset(args)
    fields = {"dataset": dataset, **dataset_settings(dataset)}
    if args.data is not None:
        fields["data_root"], fields["data_pattern"] = split_data_path(
            args.data, dataset.source.format.value
        )
    if args.schema is not None:
        fields["schema"] = args.schema
    if args.pipeline_name:
        fields["pipeline_name"] = args.pipeline_name
    return fields


def dataset_settings(spec: DatasetSpec) -> dict:
    """What a data set spec says of the run: data location, schema, split and pipeline name.

    Args:
      spec: The parsed spec, read from a file (its `origin`).

    Returns:
      PipelineConfig fields: `data_root` and `data_pattern` (from the spec's
      source, relative to the spec file), `schema` (None without one: it
      is inferred), `split` and `pipeline_name` ("deepline-<spec name>").
    """
    source = spec.source
    location = spec.resolve(source.path)
    if source.file_pattern is None:
        data_root, data_pattern = split_data_path(location, source.format.value)
    else:
        data_root = location.rstrip("/")
        data_pattern = source.file_pattern.replace("{SPAN}", config_lib.SPAN_PLACEHOLDER)
    train, eval_, test = spec.split.hash_buckets()
    name = spec.name or Path(spec.origin).parent.name
    return {
        "data_root": data_root,
        "data_pattern": data_pattern,
        "schema": spec.resolve(spec.schema) if spec.schema else None,
        "split": config_lib.SplitRatio(train=train, eval=eval_, test=test),
        "pipeline_name": config_lib.PIPELINE_NAME_PREFIX
        + re.sub(r"[^a-z0-9-]+", "-", name.lower()),
    }


def split_data_path(path: str, extension: str = "csv") -> tuple[str, str]:
    """Returns (folder, file pattern) for a data file, or for a folder of `*.<extension>` files.

    A folder holding `span-<N>` subfolders gets the span pattern
    `span-{SPAN}/*.<extension>`. A URI ending in ".<extension>" (or ".<extension>.gz") names
    one file; any other URI names a folder.
    """
    files = f"*.{extension}"
    if config_lib.is_uri(path):
        if path.endswith((f".{extension}", f".{extension}.gz")):
            return path.rsplit("/", 1)[0], path.rsplit("/", 1)[1]
        return path.rstrip("/"), files
    if os.path.isdir(path):
        if any(config_lib.SPAN_FOLDER.fullmatch(name) for name in os.listdir(path)):
            return path, config_lib.SPAN_PATTERN.replace("*.csv", files)
        return path, files
    return os.path.dirname(os.path.abspath(path)), os.path.basename(path)


def drift_check_from_args(
    args: argparse.Namespace, spec: DatasetSpec, schema: str | None
) -> DriftCheck:
    """The drift check of a run here: the spec's `drift:` section and the drift options.

    Each column's measure follows the type its values are written with: the curated
    schema's (read here, at the edge), else the spec's.

    Raises:
      ValueError: a drift threshold outside (0, 1], or a curated schema that cannot be read
        or parsed (the message names the file).
    """
    from components.ingestion.dataset import schema_columns, unreadable_schema

    column_types = {}
    if schema and not config_lib.is_uri(schema):  # a remote schema: the spec's types
        try:
            column_types = {column.name: column.kind for column in schema_columns(schema)}
        except Exception as error:  # noqa: BLE001 - any unreadable schema is the user's input
            raise ValueError(unreadable_schema(schema, error)) from None
    return resolve_drift_check(
        spec,
        column_types,
        numeric_threshold=args.numeric_drift_threshold,
        categorical_threshold=args.categorical_drift_threshold,
        warn_only=args.drift_warn_only,
    )


def tunable_fields(args: argparse.Namespace, spec: DatasetSpec | None = None) -> dict:
    """The PipelineConfig fields set by the span, training and blessing options.

    Args:
      args: The parsed command line.
      spec: The data set, whose feature kinds some model families cannot read; None
        checks the options alone.

    Raises:
      ValueError: an unknown or invalid hyperparameter (`--hparam`), hyperparameters
        that contradict their preset, or a `--model` that cannot honour them or the data.
    """
    values = {
        "preset": args.preset,
        "hidden_units": list(args.hidden_units),
        "optimizer": args.optimizer,
        "lr_schedule": args.lr_schedule,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "max_epochs": args.max_epochs,
        "seed": args.seed,
    }
    values.update(dict(args.hparams or ()))
    hparams = HParams.from_dict(values)
    # Resolved once, here, to refuse contradictions now; the config keeps the choices
    # as given ("auto" included): the Trainer and the Tuner resolve them again.
    resolved = hparams.resolve()
    # A family asked for an option it cannot honour is refused now, by name.
    families.plan(args.model, resolved, tuning=args.tune > 0, spec=spec)
    thresholds = BlessingThresholds(
        min_auc=args.min_auc, min_accuracy=args.min_accuracy, min_auc_gain=args.min_auc_gain
    )
    return {
        "span": args.span,
        "span_window": args.span_window,
        "hparams": hparams,
        "model": args.model,
        "thresholds": thresholds,
        "tuner_trials": args.tune,
        "tuner_epochs": args.tune_epochs,
    }


def cloud_training_from_args(args: argparse.Namespace) -> config_lib.CloudTraining | None:
    """The Trainer's Vertex AI custom job of `compile` / `deploy`, or None to train in the step.

    Raises:
      ValueError: a machine or an accelerator without --project, or an
        accelerator count without a type.
    """
    if not (args.trainer_machine_type or args.trainer_accelerator):
        return None
    if not args.project:
        raise ValueError(
            "A Trainer custom job runs in a Google Cloud project: pass --project PROJECT_ID "
            "with --trainer-machine-type / --trainer-accelerator."
        )
    return config_lib.CloudTraining(
        project=args.project,
        image=args.image,
        region=args.region,
        machine_type=args.trainer_machine_type or config_lib.CloudTraining.machine_type,
        accelerator_type=args.trainer_accelerator,
        accelerator_count=args.trainer_accelerator_count,
    )


def beam_args_from_args(args: argparse.Namespace, data_root: str, data_pattern: str) -> tuple:
    """The Beam pipeline options of a run here: the runner's, then `--beam-arg`s.

    Up to `beam_options.SMALL_INPUT_BYTES` of input, the DirectRunner runs in
    this process, unless a `--beam-arg` chooses a running mode of its own.

    Raises:
      ValueError: Dataflow options that are missing or contradict each other.
    """
    own_mode = any("direct_running_mode" in arg for arg in args.beam_args or ())
    small = not own_mode and input_bytes(data_root, data_pattern) <= beam_lib.SMALL_INPUT_BYTES
    beam_options = beam_lib.BeamOptions(
        runner=args.runner,
        project=args.gcp_project,
        region=args.gcp_region,
        temp_location=args.temp_location,
        max_num_workers=args.max_num_workers,
        machine_type=args.machine_type,
        in_memory=small,
    )
    return beam_options.to_args() + tuple(args.beam_args or ())


def input_bytes(data_root: str, data_pattern: str) -> int:
    """Total size of the local input files (every span); remote input counts as large."""
    if config_lib.is_uri(data_root):
        return 1 << 62
    pattern = os.path.join(data_root, data_pattern.replace(config_lib.SPAN_PLACEHOLDER, "*"))
    return sum(os.path.getsize(path) for path in glob.glob(pattern) if os.path.isfile(path))


def module_code_fingerprint(root: Path = config_lib.PACKAGE_ROOT / "components") -> str:
    """SHA-256 over the Python sources under `root` (paths and contents, sorted)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
