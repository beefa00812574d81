"""Beam pipeline options for the Beam-based components, as a typed object.

`BeamOptions(...).to_args()` gives the flags that go into
`PipelineConfig.beam_args`: Beam's DirectRunner on this machine, or Google
Cloud Dataflow. Dataflow workers import our preprocessing code, so they must
install this package; `to_args` passes our setup.py for that (without it a
Dataflow job fails with `ModuleNotFoundError` on the first worker). It passes
it for DirectRunner too, which ignores it, so that TFX does not pack its own
installation for every component (see `pipeline.config.DEFAULT_BEAM_ARGS`).
"""

from __future__ import annotations

import dataclasses

from pipeline.config import PICKLE_LIBRARY_ARG, SETUP_FILE

DIRECT_RUNNER = "DirectRunner"
DATAFLOW_RUNNER = "DataflowRunner"
RUNNERS = (DIRECT_RUNNER, DATAFLOW_RUNNER)
# Up to this much input, the DirectRunner runs in-process (`BeamOptions.in_memory`).
# Measured on the bundled taxi data (15,002 rows, 2 cores), a whole first run took
# 102 s in-process against 130 s with a worker process per core: StatisticsGen
# 9.8 s vs 17.2 s, Transform 29.3 s vs 41.0 s, Evaluator 14.3 s vs 22.1 s.
SMALL_INPUT_BYTES = 64 << 20


@dataclasses.dataclass(frozen=True)
class BeamOptions:
    """Where and how the Beam-based components run.

    Attributes:
      runner: "DirectRunner" (this machine) or "DataflowRunner" (Google Cloud).
        Defaults to "DirectRunner".
      direct_num_workers: DirectRunner worker processes; 0 means one per core.
        Defaults to 0.
      project: Google Cloud project Dataflow runs (and bills) in. Required by
        DataflowRunner. Defaults to None.
      region: Dataflow region, e.g. "us-central1". Required by DataflowRunner.
        Defaults to None.
      temp_location: gs:// folder for Dataflow's temporary files. Required by
        DataflowRunner. Defaults to None.
      staging_location: gs:// folder for the staged package. Defaults to None
        (Dataflow stages under `temp_location`).
      max_num_workers: Upper bound for Dataflow autoscaling. Defaults to None
        (Dataflow's own limit).
      machine_type: Dataflow worker machine type, e.g. "n1-standard-4".
        Defaults to None (Dataflow's default).
      setup_file: setup.py that remote (Dataflow) workers install. Defaults
        to None: this repository's setup.py.
      in_memory: DirectRunner only: run in this process, without worker
        processes. For small inputs, where starting a worker per core costs
        more than the cores save. Defaults to False.

    DirectRunner uses only `direct_num_workers`; DataflowRunner ignores it.

    Raises:
      ValueError: on an unknown runner, a negative or zero worker count, or
        (DataflowRunner) a missing project, region or gs:// temp_location.
    """

    runner: str = DIRECT_RUNNER
    direct_num_workers: int = 0
    project: str | None = None
    region: str | None = None
    temp_location: str | None = None
    staging_location: str | None = None
    max_num_workers: int | None = None
    machine_type: str | None = None
    setup_file: str | None = None
    in_memory: bool = False

    def __post_init__(self):
        if self.runner not in RUNNERS:
            raise ValueError(
                f"Unknown Beam runner {self.runner!r}: pass --runner=DirectRunner (this "
                "machine) or --runner=DataflowRunner (Google Cloud)."
            )
        if self.direct_num_workers < 0:
            raise ValueError(
                f"direct_num_workers is {self.direct_num_workers}: pass "
                "--direct_num_workers=N with N >= 0 (0: one worker per core)."
            )
        if self.runner == DATAFLOW_RUNNER:
            self._check_dataflow()

    def _check_dataflow(self) -> None:
        required = {
            "project": "--project=PROJECT_ID",
            "region": "--region=REGION (e.g. us-central1)",
            "temp_location": "--temp_location=gs://BUCKET/tmp",
        }
        for name, flag in required.items():
            if not getattr(self, name):
                raise ValueError(f"DataflowRunner needs {name}: pass {flag}.")
        for name in ("temp_location", "staging_location"):
            value = getattr(self, name)
            # Dataflow workers cannot see this machine's disk.
            if value and not value.startswith("gs://"):
                raise ValueError(
                    f"DataflowRunner needs {name} on Cloud Storage, got {value!r}: pass "
                    f"--{name}=gs://BUCKET/{'tmp' if name == 'temp_location' else 'staging'}."
                )
        if self.max_num_workers is not None and self.max_num_workers < 1:
            raise ValueError(
                f"max_num_workers is {self.max_num_workers}: pass --max_num_workers=N with N >= 1."
            )

    def to_args(self) -> tuple[str, ...]:
        """Returns the Beam pipeline arguments, e.g. for `PipelineConfig.beam_args`."""
        setup_file = f"--setup_file={self.setup_file or SETUP_FILE}"
        if self.runner == DIRECT_RUNNER and self.in_memory:
            return (
                "--direct_running_mode=in_memory",
                "--direct_num_workers=1",
                setup_file,
                PICKLE_LIBRARY_ARG,
            )
        if self.runner == DIRECT_RUNNER:
            return (
                "--direct_running_mode=multi_processing",
                f"--direct_num_workers={self.direct_num_workers}",
                setup_file,
                PICKLE_LIBRARY_ARG,
            )
        args = [
            f"--runner={DATAFLOW_RUNNER}",
            f"--project={self.project}",
            f"--region={self.region}",
            f"--temp_location={self.temp_location}",
        ]
        if self.staging_location:
            args.append(f"--staging_location={self.staging_location}")
        args.append(setup_file)
        if self.max_num_workers is not None:
            args.append(f"--max_num_workers={self.max_num_workers}")
        if self.machine_type:
            args.append(f"--machine_type={self.machine_type}")
        args.append(PICKLE_LIBRARY_ARG)
        return tuple(args)
