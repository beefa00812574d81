"""Runs a benchmark's contender in a child process (wall time and peak memory); the taxi-like
CSV the benchmarks read; Deepline's ingestion of it as such a child.

Wall time runs from process start to exit, imports included; CPU time is the
child's and its descendants' user + system seconds. Peak memory is
the largest sum of the resident set sizes of the child and all its
descendants (Beam workers included), polled with psutil every 50 ms.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

POLL_SECONDS = 0.05

# Deepline's ingestion of one CSV with the taxi spec, through its Python API (what
# `deepline ingest` runs, without the CLI's own start-up); prints the summary as JSON.
_DEEPLINE_INGEST = """
import sys
from components.dataset import load_spec
from components.ingestion import ingest, spec_config
csv, output, spec_file, runner, workers = sys.argv[1:6]
config = spec_config(load_spec(spec_file))
result = ingest(csv, output, config, runner=runner, workers=int(workers))
print(result.to_json(), end="")
"""


def ingest_command(csv: Path, output: Path, runner: str = "local", workers: int = 0) -> list[str]:
    """The command ingesting `csv` into `output` with the taxi spec; prints the summary JSON.

    Args:
      csv: The CSV file.
      output: The output folder.
      runner: "local" or "beam". Defaults to "local".
      workers: Local processes; 0: one per core. Defaults to 0.
    """
    spec_file = ROOT / "data" / "taxi" / "spec.yaml"
    script = [sys.executable, "-c", _DEEPLINE_INGEST]
    return [*script, str(csv), str(output), str(spec_file), runner, str(workers)]


def environment() -> dict[str, str]:
    """The child's environment: tf_keras, quiet TensorFlow, this checkout importable."""
    env = dict(os.environ)
    env["TF_USE_LEGACY_KERAS"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("PYTHONWARNINGS", "ignore")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def tree_rss(process) -> int:
    """Resident bytes of `process` and all its descendants (0 for those already gone)."""
    import psutil

    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(command: list[str]) -> dict:
    """Runs `command`; returns wall seconds, CPU seconds, peak tree RSS in bytes, exit code
    and output.

    CPU seconds (user + system, of the child and every descendant it waited for) move less
    than wall time when other work shares the cores; read both.
    """
    cpu_before = children_cpu_seconds()
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, env=environment(), cwd=ROOT)
        peak = 0
        try:
            import psutil

            watched = psutil.Process(child.pid)
            while child.poll() is None:
                peak = max(peak, tree_rss(watched))
                time.sleep(POLL_SECONDS)
        except ImportError:  # no psutil: the largest single child process, from the kernel
            child.wait()
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        seconds = time.monotonic() - started
        cpu_seconds = children_cpu_seconds() - cpu_before
        out.seek(0)
        err.seek(0)
        return {
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "peak_bytes": peak,
            "returncode": child.returncode,
            "stdout": out.read().decode(errors="replace"),
            "stderr": err.read().decode(errors="replace"),
        }


def taxi_csv(given: Path | None, work: Path, rows: int) -> Path:
    """The CSV a benchmark reads: `given`, or `rows` taxi-like rows written into `work`."""
    if given:
        return given.resolve()
    from data.synth import TaxiLikeGenerator

    csv = work / "taxi.csv"
    started = time.monotonic()
    TaxiLikeGenerator().write(csv, rows, seed=0)
    print(f"generated {rows:,} rows in {time.monotonic() - started:.1f} s: {csv}")
    return csv
