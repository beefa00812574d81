"""Typed run configuration: read once at the edge (CLI), immutable afterwards.

`PipelineConfig` holds everything a run depends on, paths included, and the
parsed data set spec; every default is written here, once. It is built from the
command line in one place, `pipeline.config_builder`, which does the reading
(spec, input sizes, code fingerprint). The pipeline factory turns it into TFX
protos and component parameters without touching the disk; nothing below the
CLI reads flags or the environment.

Importing this module imports no TensorFlow, TFMA, TFX or tf_keras.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from pathlib import Path

from components.blessing import BlessingThresholds
from components.dataset import DatasetSpec, load_spec
from components.drift.settings import DriftCheck
from components.trainer import families
from components.trainer.hparams import HParams
from pipeline import contracts

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DATA = PACKAGE_ROOT / "data"

PIPELINE_NAME_PREFIX = "deepline-"
DEFAULT_PIPELINE_NAME = PIPELINE_NAME_PREFIX + "taxi"
DEFAULT_OUTPUT_DIR = "outputs"
DEFAULT_SPEC = str(BUNDLED_DATA / "taxi" / "spec.yaml")
DEFAULT_DATA = str(BUNDLED_DATA / "taxi" / "data.csv")
DEFAULT_SCHEMA = str(BUNDLED_DATA / "taxi" / "schema.pbtxt")

# New data lands as one folder per span: <data>/span-1/, <data>/span-2/, ...
SPAN_PLACEHOLDER = "{SPAN}"
SPAN_FOLDER = re.compile(r"span-(\d+)")
SPAN_PATTERN = "span-" + SPAN_PLACEHOLDER + "/*.csv"

# What Beam workers install: this package, with its data specs and schemas.
SETUP_FILE = str(PACKAGE_ROOT / "setup.py")
# Beam's DirectRunner in multi-processing mode, one worker per core. DirectRunner's
# workers share this installation and never install `--setup_file`; it is passed
# because TFX 1.16, given Beam arguments that name no package for the workers, packs
# its own installation as one for every Beam component it runs: about 2 s each, and a
# 49 MB copy left behind in a new temporary folder (`tfx.utils.dependency_utils`).
# Beam pickles every DoFn and transform it runs with cloudpickle, not Beam 2.64's default
# dill: each dill `dumps`/`loads` resets dill's logger level, and `Logger.setLevel` clears the
# cache of every logger in the process (about 1,000 once TFX is imported). On the taxi data
# (`deepline run --model dnn`, in-process Beam, one run each, machine shared with a benchmark):
# Transform 46.6 s -> 30.4 s, StatisticsGen 11.8 s -> 7.6 s, the run's CPU time 142 s -> 120 s.
# Beam 2.65 made cloudpickle its default; `--beam-arg=--pickle_library=dill` still wins.
PICKLE_LIBRARY_ARG = "--pickle_library=cloudpickle"
DEFAULT_BEAM_ARGS = (
    "--direct_running_mode=multi_processing",
    "--direct_num_workers=0",
    f"--setup_file={SETUP_FILE}",
    PICKLE_LIBRARY_ARG,
)


@functools.lru_cache(maxsize=1)
def default_dataset() -> DatasetSpec:
    """The bundled taxi spec (`DEFAULT_SPEC`), read once: `PipelineConfig`'s default data set.

    Raises:
      SpecError: the bundled spec is not valid (a bug); OSError: it cannot be read.
    """
    return load_spec(DEFAULT_SPEC)


@dataclasses.dataclass(frozen=True)
class SplitRatio:
    """Deterministic hash split of the ingested rows into train / eval / test.

    The Trainer fits on `train` and early-stops on `eval`; the Evaluator
    measures (and blesses) on `test`, which neither training nor model
    selection has seen.

    Attributes:
      train: Hash buckets for training. Defaults to 14 (70%).
      eval: Hash buckets for early stopping. Defaults to 3 (15%).
      test: Hash buckets for the Evaluator. Defaults to 3 (15%).
    """

    train: int = 14
    eval: int = 3
    test: int = 3

    def __post_init__(self):
        if min(self.train, self.eval, self.test) <= 0:
            raise ValueError(f"Every split needs at least one hash bucket, got {self}.")


@dataclasses.dataclass(frozen=True)
class CloudTraining:
    """Runs the Trainer as a Vertex AI custom job on a machine of its own.

    The pipeline step then only submits the job and waits for it; the job runs
    the same `run_fn` in `image`, on `machine_type` with the accelerators
    asked for, and logs the devices and distribution strategy it got.

    Attributes:
      project: Google Cloud project the job runs in.
      image: Container image of the job: the pipeline's own image.
      region: Vertex AI region. Defaults to "us-central1".
      machine_type: Compute Engine machine type. Defaults to "n1-standard-8".
      accelerator_type: Vertex accelerator name, e.g. "NVIDIA_TESLA_T4", or
        None for CPU only. Defaults to None.
      accelerator_count: Accelerators attached; with more than one the
        Trainer mirrors the model over them. Defaults to 0 (1 when an
        accelerator type is given).
    """

    project: str
    image: str
    region: str = "us-central1"
    machine_type: str = "n1-standard-8"
    accelerator_type: str | None = None
    accelerator_count: int = 0

    def __post_init__(self):
        if self.accelerator_type and self.accelerator_count <= 0:
            object.__setattr__(self, "accelerator_count", 1)
        if self.accelerator_count and not self.accelerator_type:
            raise ValueError(
                f"{self.accelerator_count} accelerator(s) asked for without a type: give "
                "the accelerator type too, e.g. NVIDIA_TESLA_T4."
            )

    def job_config(self) -> dict:
        """The Vertex `CustomJobSpec` (as a dict) the Trainer step submits."""
        machine = {"machine_type": self.machine_type}
        if self.accelerator_type:
            machine["accelerator_type"] = self.accelerator_type
            machine["accelerator_count"] = self.accelerator_count
        return {
            "project": self.project,
            "worker_pool_specs": [
                {
                    "machine_spec": machine,
                    "replica_count": 1,
                    "container_spec": {"image_uri": self.image},
                }
            ],
        }


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Everything one pipeline run depends on.

    Attributes:
      dataset: The parsed data set spec: columns, their transforms, the label,
        slices, split. Defaults to the bundled taxi spec (`default_dataset()`).
        `data_root`, `data_pattern`, `schema` and `split` are read from it by
        `pipeline.config_builder` (`dataset_settings`), unless options replace them.
      data_root: Folder ExampleGen reads from. Defaults to the bundled taxi folder.
      data_pattern: Pattern of the input files, relative to `data_root`.
        Defaults to the bundled "data.csv". `config_builder.split_data_path` makes both from
        a file or folder path.
      schema: Curated schema (`schema.pbtxt`) the data is validated against,
        or None to infer one from the ingested data (TFX's SchemaGen).
        Defaults to the bundled taxi schema.
      output_dir: Root of everything a run writes: pipeline artifacts, ML
        Metadata, pushed models, summary. Defaults to "outputs".
      pipeline_name: Names the pipeline in ML Metadata and the serving folder.
        Defaults to "deepline-taxi".
      span: With span-laid-out input (`<data>/span-{N}/*.csv`), the span this
        run ingests; None for the newest one. Defaults to None.
      span_window: With span-laid-out input, how many of the latest spans
        Transform analyzes and the Trainer trains on. Defaults to 1.
      split: Train / eval / test split. Defaults to 70/15/15.
      hparams: Trainer hyperparameters. Defaults to `HParams()`.
      model: What the Trainer trains and serves: a model family of
        `components.trainer.families.FAMILIES`, "ensemble", or "auto" (the
        candidates chosen on the eval split). Defaults to "auto".
      thresholds: Evaluator blessing thresholds. Defaults to `BlessingThresholds()`.
      beam_args: Beam pipeline options for the Beam-based components.
        Defaults to the multi-processing DirectRunner on every core. Options
        of one's own should name `--setup_file` too (see DEFAULT_BEAM_ARGS).
      enable_cache: Reuse a component's earlier output when its inputs,
        parameters and code are unchanged. Defaults to True.
      code_fingerprint: Hash of the module code TFX runs, so that changing
        the code invalidates cached Transform/Trainer results. Defaults to "";
        `pipeline.config_builder` sets `module_code_fingerprint()`.
      cloud_training: Run the Trainer (and the Tuner) as Vertex AI custom
        jobs (Vertex only); None trains inside the pipeline step. Defaults to None.
      tuner_trials: Run the Tuner before the Trainer with this many trials of
        KerasTuner's random search over depth, width, peak learning rate,
        dropout and weight decay; the Trainer then uses the best. 0 for no
        Tuner. Defaults to 0.
      tuner_epochs: Epochs of each Tuner trial (early-stopped). Defaults to 5.
      max_quarantined_fraction: Ingestion sets aside rows that fail its checks
        (with file, line and reason); the run fails when a larger fraction of
        rows than this is set aside. Defaults to 0.0: any bad row fails the run.
    """

    dataset: DatasetSpec = dataclasses.field(default_factory=default_dataset)
    data_root: str = os.path.dirname(DEFAULT_DATA)
    data_pattern: str = os.path.basename(DEFAULT_DATA)
    schema: str | None = DEFAULT_SCHEMA
    output_dir: str = DEFAULT_OUTPUT_DIR
    pipeline_name: str = DEFAULT_PIPELINE_NAME
    span: int | None = None
    span_window: int = 1
    split: SplitRatio = SplitRatio()
    hparams: HParams = HParams()
    model: str = families.AUTO
    thresholds: BlessingThresholds = BlessingThresholds()
    beam_args: tuple[str, ...] = DEFAULT_BEAM_ARGS
    enable_cache: bool = True
    code_fingerprint: str = ""
    cloud_training: CloudTraining | None = None
    tuner_trials: int = 0
    tuner_epochs: int = 5
    max_quarantined_fraction: float = 0.0
    drift: DriftCheck | None = None

    @property
    def uses_spans(self) -> bool:
        """True when the input is laid out in span folders (`span-{SPAN}/...`)."""
        return SPAN_PLACEHOLDER in self.data_pattern

    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.output_dir, contracts.PIPELINE_FOLDER)

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.output_dir, contracts.METADATA_FILE)

    @property
    def serving_dir(self) -> str:
        """Pushed models go to `<serving_dir>/<version>/`."""
        return os.path.join(self.output_dir, contracts.SERVING_FOLDER, self.pipeline_name)

    @property
    def summary_path(self) -> str:
        return os.path.join(self.output_dir, contracts.SUMMARY_FILE)

    def absolute(self) -> PipelineConfig:
        """Returns a copy with absolute paths (TFX stores paths in ML Metadata)."""
        return dataclasses.replace(
            self,
            data_root=absolute_path(self.data_root),
            schema=absolute_path(self.schema) if self.schema else None,
            output_dir=absolute_path(self.output_dir),
        )


def is_uri(path: str) -> bool:
    """True for a remote location such as gs://bucket/folder."""
    return "://" in path


def absolute_path(path: str) -> str:
    """An absolute local path; a URI (gs://...) is returned as it is."""
    return path if is_uri(path) else os.path.abspath(path)
