"""The Beam form of ingestion, for Dataflow: one element per byte range.

`IngestRanges` spreads the range tasks over workers (a Reshuffle, so a
runner does not fuse them onto the worker that created them), runs
`ingest_range` on each, and finalizes once on the collected results
(joining quarantine parts and writing the summary). Workers write their
shards directly, under temporary names renamed when complete, like Beam's
own file sinks; a retried range rewrites the same shard names.

`run_pipeline` runs it with the given options; without options it uses the
DirectRunner in `multi_processing` mode on every core (`direct_num_workers=0`).
"""

from __future__ import annotations

from collections.abc import Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from components.ingestion.layout import FileLayout
from components.ingestion.reader import RangeTask, ingest_range
from components.ingestion.result import finalize
from components.ingestion.settings import IngestionConfig

DEFAULT_BEAM_ARGS = (
    "--direct_running_mode=multi_processing",
    "--direct_num_workers=0",
    "--pickle_library=cloudpickle",  # as the pipeline's (`pipeline.config.PICKLE_LIBRARY_ARG`)
)


class IngestRanges(beam.PTransform):
    """Ingests range tasks; outputs one `IngestionResult` once all ranges are done.

    Args:
      tasks: The range tasks (see `ingest.plan_tasks`).
      layouts: One layout per input file, in input order.
      output_dir: The output folder.
      config: The ingestion settings.
      started: time.time() at the start of the run, for the summary's timing.
    """

    def __init__(self, tasks, layouts, output_dir: str, config: IngestionConfig, started: float):
        super().__init__()
        self._tasks = list(tasks)
        self._layouts = list(layouts)
        self._output_dir = output_dir
        self._config = config
        self._started = started

    def expand(self, pbegin):
        results = (
            pbegin
            | "Ranges" >> beam.Create(self._tasks)
            | "Spread" >> beam.Reshuffle()
            | "Ingest" >> beam.Map(ingest_range, self._config)
        )
        return (
            results
            | "Collect" >> beam.combiners.ToList()
            | "Finalize"
            >> beam.Map(
                finalize, self._layouts, self._output_dir, self._config, self._started, "beam"
            )
        )


def run_pipeline(
    tasks: list[RangeTask],
    layouts: list[FileLayout],
    output_dir: str,
    config: IngestionConfig,
    started: float,
    beam_args: Sequence[str] | None = None,
) -> None:
    """Runs `IngestRanges` to completion; the summary is then in the output folder.

    Args:
      tasks: The range tasks.
      layouts: One layout per input file.
      output_dir: The output folder.
      config: The ingestion settings.
      started: time.time() at the start of the run.
      beam_args: Pipeline options. Defaults to `DEFAULT_BEAM_ARGS`.
    """
    options = PipelineOptions(list(beam_args if beam_args is not None else DEFAULT_BEAM_ARGS))
    with beam.Pipeline(options=options) as pipeline:
        _ = pipeline | "IngestCsv" >> IngestRanges(tasks, layouts, output_dir, config, started)
