"""The ingestion entry point: check headers, plan units of work, run them, finalize.

The input format (`components.ingestion.formats.FORMATS[config.format]`)
reads each file's layout (its header) and cuts the file into units of work
(byte ranges, row groups, files). Two runners process the same `RangeTask`s
with the same `ingest_range`:

- "local" (the default): a pool of spawned processes, one range at a time
  each. It is the faster choice on one machine. benchmarks/ingestion.py,
  1,000,000 taxi-like rows (127 MB) on the 2-core machine, shared with
  other work (load ~4): local 19.7 s (50,700 rows/s, 0.6 GB peak), Beam
  DirectRunner multi_processing 26.1 s (0.9 GB), CsvExampleGen 399 s
  (2,500 rows/s, 5.1 GB). The Beam gap is a fixed cost, its worker
  start-up (about 9 s, measured on the 15,000-row taxi file); this work
  needs no shuffle for Beam to earn it back.
- "beam": a Beam pipeline (`components.ingestion.beam`), for Dataflow or any
  runner that spreads the ranges over machines. With the DirectRunner it
  runs `multi_processing` on every core unless `beam_args` say otherwise.

Per row, about half the time is tfx_bsl's Example encoder (~8.5 us), then
GZIP (~3.5 us at level 1), TFRecord framing (~3 us) and the checks (~2 us).

Whatever the runner, the outputs are identical: shards are named by range,
a row's split depends only on its text, and quarantine parts are joined in
file and line order.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from components.ingestion import files
from components.ingestion.formats import get_format
from components.ingestion.layout import FileLayout
from components.ingestion.reader import QUARANTINE_FOLDER, RangeResult, RangeTask, ingest_range
from components.ingestion.result import (
    SUMMARY_NAME,
    IngestionResult,
    enforce_limits,
    finalize,
    read_result,
)
from components.ingestion.settings import IngestionConfig, IngestionError, split_names

RUNNERS = ("local", "beam")


def input_files(inputs: str | Sequence[str], extension: str = "csv") -> list[str]:
    """Expands files, glob patterns and local folders (their *.<extension>) into a list of files.

    Raises:
      IngestionError: an entry matches nothing.
    """
    found = []
    for entry in [inputs] if isinstance(inputs, str) else inputs:
        try:
            matched = files.match(entry, extension)
        except Exception:  # noqa: BLE001 - a remote glob that matches nothing raises
            matched = []
        if not matched:
            raise IngestionError(
                f"No input file matches {entry}: pass {extension} files, glob patterns or "
                f"folders of *.{extension} files."
            )
        found += [m for m in matched if m not in found]
    return found


def _prepare_output(output_dir: str, config: IngestionConfig, overwrite: bool) -> None:
    ours = [f"Split-{n}" for n in split_names(config)] + [QUARANTINE_FOLDER, SUMMARY_NAME]
    existing = [files.join(output_dir, n) for n in ours if files.exists(files.join(output_dir, n))]
    if existing and not overwrite:
        raise IngestionError(
            f"{output_dir} already holds ingestion output ({', '.join(existing)}); a new run "
            "would mix its shards with the old ones. Choose an empty folder, or pass "
            "overwrite=True (--overwrite) to replace them."
        )
    for path in existing:
        files.delete(path)


def plan_tasks(
    layouts: list[FileLayout], output_dir: str, config: IngestionConfig
) -> list[RangeTask]:
    """Cuts every file into its format's units of work (CSV, JSON lines: byte ranges;
    Parquet: row groups; TFRecord: whole files)."""
    input_format = get_format(config.format)
    ranges = []
    for layout in layouts:
        ranges += input_format.plan(layout, config, len(ranges))
    token = uuid.uuid4().hex[:12]
    by_path = {layout.path: layout for layout in layouts}
    return [RangeTask(r, by_path[r.path], len(ranges), output_dir, token) for r in ranges]


def _run_local(tasks: list[RangeTask], config: IngestionConfig, workers: int) -> list[RangeResult]:
    workers = min(workers if workers > 0 else os.cpu_count() or 1, len(tasks))
    if workers <= 1:
        return [ingest_range(task, config) for task in tasks]
    # spawn, not fork: the caller may hold TensorFlow or gRPC threads, which fork can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(ingest_range, tasks, itertools.repeat(config)))


def ingest(
    inputs: str | Sequence[str],
    output_dir: str,
    config: IngestionConfig,
    *,
    runner: str = "local",
    workers: int = 0,
    beam_args: Sequence[str] | None = None,
    overwrite: bool = False,
) -> IngestionResult:
    """Ingests files of `config.format` into GZIP TFRecord splits, quarantining rows that fail.

    Args:
      inputs: Files, glob patterns or local folders (their *.<format> files,
        e.g. *.csv for `config.format` "csv").
      output_dir: Folder for `Split-<name>/`, `quarantine/rows.jsonl` and
        `ingestion_summary.json`.
      config: Columns, label rule and limits.
      runner: "local" (process pool) or "beam". Defaults to "local".
      workers: Local processes; 0 means one per core. Defaults to 0.
      beam_args: Beam pipeline options for the "beam" runner. Defaults to
        the DirectRunner in multi_processing mode on every core.
      overwrite: Replace earlier ingestion output in `output_dir`. Defaults to False.

    With more than one local worker, processes are spawned, so the caller's
    main module must be safe to import (the usual `if __name__ == "__main__":`).

    Returns:
      The run's counts, also written to `<output>/ingestion_summary.json`.

    Raises:
      ValueError: `runner` or `config.format` is not one ingestion knows.
      IngestionError: no input matches; a file is empty or its header lacks
        a required column (before anything is written); the output folder
        holds earlier output; or, after everything is written, there were no
        rows or more than `config.max_quarantined_fraction` were quarantined.
    """
    if runner not in RUNNERS:
        raise ValueError(f"runner must be one of {RUNNERS}, got {runner!r}.")
    input_format = get_format(config.format)
    started = time.time()
    layouts = [input_format.layout(p, config) for p in input_files(inputs, input_format.name)]
    _prepare_output(output_dir, config, overwrite)
    tasks = plan_tasks(layouts, output_dir, config)
    if runner == "local":
        results = _run_local(tasks, config, workers)
        result = finalize(results, layouts, output_dir, config, started, runner)
    else:
        # Deferred: importing Beam costs a couple of seconds the local runner need not pay.
        from components.ingestion.beam import run_pipeline

        run_pipeline(tasks, layouts, output_dir, config, started, beam_args)
        result = read_result(output_dir)
    enforce_limits(result, config)
    return result
