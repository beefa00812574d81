"""Typed run configuration: read once at the edge (CLI), immutable afterwards.

`PipelineConfig` holds everything a run depends on, paths included; every
default is written here, once. The pipeline factory turns it into TFX protos
and component parameters; nothing below the CLI reads flags or the environment.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
from pathlib import Path

from components.evaluation import BlessingThresholds
from components.trainer.hparams import HParams

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
# What ingestion reads (`components.ingestion.spec.FORMATS`); a spec's source.format.
INPUT_FORMATS = ("csv", "jsonl", "parquet", "tfrecord")

# What Beam workers install: this package, with its data specs and schemas.
SETUP_FILE = str(PACKAGE_ROOT / "setup.py")
# Beam's DirectRunner in multi-processing mode, one worker per core. DirectRunner's
# workers share this installation and never install `--setup_file`; it is passed
# because TFX 1.16, given Beam arguments that name no package for the workers, packs
# its own installation as one for every Beam component it runs: about 2 s each, and a
# 49 MB copy left behind in a new temporary folder (`tfx.utils.dependency_utils`).
DEFAULT_BEAM_ARGS = (
    "--direct_running_mode=multi_processing",
    "--direct_num_workers=0",
    f"--setup_file={SETUP_FILE}",
)


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

    def job_spec(self) -> dict:
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
      spec: The data set spec (YAML): columns, their transforms, the label,
        slices, split. Defaults to the bundled taxi spec. `data_root`,
        `data_pattern`, `schema` and `split` are read from it by the CLI
        (`dataset_settings`), unless options replace them.
      data_root: Folder ExampleGen reads from. Defaults to the bundled taxi folder.
      data_pattern: Pattern of the input files, relative to `data_root`.
        Defaults to the bundled "data.csv". `split_data_path` makes both from
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
      thresholds: Evaluator blessing thresholds. Defaults to `BlessingThresholds()`.
      beam_args: Beam pipeline options for the Beam-based components.
        Defaults to the multi-processing DirectRunner on every core. Options
        of one's own should name `--setup_file` too (see DEFAULT_BEAM_ARGS).
      enable_cache: Reuse a component's earlier output when its inputs,
        parameters and code are unchanged. Defaults to True.
      code_fingerprint: Hash of the module code TFX runs, so that changing
        the code invalidates cached Transform/Trainer results. Defaults to
        `module_code_fingerprint()` when built by `from_args`.
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

    spec: str = DEFAULT_SPEC
    data_root: str = os.path.dirname(DEFAULT_DATA)
    data_pattern: str = os.path.basename(DEFAULT_DATA)
    schema: str | None = DEFAULT_SCHEMA
    output_dir: str = DEFAULT_OUTPUT_DIR
    pipeline_name: str = DEFAULT_PIPELINE_NAME
    span: int | None = None
    span_window: int = 1
    split: SplitRatio = SplitRatio()
    hparams: HParams = HParams()
    thresholds: BlessingThresholds = BlessingThresholds()
    beam_args: tuple[str, ...] = DEFAULT_BEAM_ARGS
    enable_cache: bool = True
    code_fingerprint: str = ""
    cloud_training: CloudTraining | None = None
    tuner_trials: int = 0
    tuner_epochs: int = 5
    max_quarantined_fraction: float = 0.0

    @property
    def uses_spans(self) -> bool:
        """True when the input is laid out in span folders (`span-{SPAN}/...`)."""
        return SPAN_PLACEHOLDER in self.data_pattern

    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.output_dir, "pipeline")

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.output_dir, "metadata.sqlite")

    @property
    def serving_dir(self) -> str:
        """Pushed models go to `<serving_dir>/<version>/`."""
        return os.path.join(self.output_dir, "serving_model", self.pipeline_name)

    @property
    def summary_path(self) -> str:
        return os.path.join(self.output_dir, "summary.json")

    def dataset_spec(self):
        """The data set spec (`components.dataset.DatasetSpec`), read from `spec`.

        Raises:
          SpecError: the file is not a valid spec; OSError: it cannot be read.
        """
        return _load_spec(self.spec)

    def absolute(self) -> PipelineConfig:
        """Returns a copy with absolute paths (TFX stores paths in ML Metadata)."""
        return dataclasses.replace(
            self,
            spec=absolute_path(self.spec),
            data_root=absolute_path(self.data_root),
            schema=absolute_path(self.schema) if self.schema else None,
            output_dir=absolute_path(self.output_dir),
        )


@functools.lru_cache(maxsize=8)
def _load_spec(path: str):
    from components.dataset import load_spec

    return load_spec(path)


def dataset_settings(spec_file: str) -> dict:
    """What a data set spec says of the run: data location, schema, split and pipeline name.

    Returns:
      PipelineConfig fields: `data_root` and `data_pattern` (from the spec's
      source, relative to the spec file), `schema` (None without one: it
      is inferred), `split` and `pipeline_name` ("deepline-<spec name>").

    Raises:
      SpecError: not a valid spec. ValueError: a source format ingestion cannot read yet.
    """
    spec = _load_spec(absolute_path(spec_file))
    source = spec.source
    if source.format.value not in INPUT_FORMATS:
        raise ValueError(
            f"{spec_file}: source.format {source.format.value!r}: ingestion reads "
            f"{', '.join(INPUT_FORMATS)} so far; convert the data to one of them."
        )
    location = spec.resolve(source.path)
    if source.file_pattern is None:
        data_root, data_pattern = split_data_path(location, source.format.value)
    else:
        data_root = location.rstrip("/")
        data_pattern = source.file_pattern.replace("{SPAN}", SPAN_PLACEHOLDER)
    train, eval_, test = spec.split.hash_buckets()
    name = spec.name or Path(spec_file).parent.name
    return {
        "data_root": data_root,
        "data_pattern": data_pattern,
        "schema": spec.resolve(spec.schema) if spec.schema else None,
        "split": SplitRatio(train=train, eval=eval_, test=test),
        "pipeline_name": PIPELINE_NAME_PREFIX + re.sub(r"[^a-z0-9-]+", "-", name.lower()),
    }


def is_uri(path: str) -> bool:
    """True for a remote location such as gs://bucket/folder."""
    return "://" in path


def absolute_path(path: str) -> str:
    """An absolute local path; a URI (gs://...) is returned as it is."""
    return path if is_uri(path) else os.path.abspath(path)


def split_data_path(path: str, extension: str = "csv") -> tuple[str, str]:
    """Returns (folder, file pattern) for a data file, or for a folder of `*.<extension>` files.

    A folder holding `span-<N>` subfolders gets the span pattern
    `span-{SPAN}/*.<extension>`. A URI ending in ".<extension>" names one file;
    any other URI names a folder.
    """
    files = f"*.{extension}"
    if is_uri(path):
        if path.endswith(f".{extension}"):
            return path.rsplit("/", 1)[0], path.rsplit("/", 1)[1]
        return path.rstrip("/"), files
    if os.path.isdir(path):
        if any(SPAN_FOLDER.fullmatch(name) for name in os.listdir(path)):
            return path, SPAN_PATTERN.replace("*.csv", files)
        return path, files
    return os.path.dirname(os.path.abspath(path)), os.path.basename(path)


def module_code_fingerprint(root: Path = PACKAGE_ROOT / "components") -> str:
    """SHA-256 over the Python sources under `root` (paths and contents, sorted)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
