"""`deepline ingest`, the one ingestion command line: several inputs, the summary as JSON, Beam
options handed to the Beam runner."""

import json

from components import ingestion
from pipeline import cli


def _write_halves(tmp_path, taxi_rows):
    """The 40 taxi rows in two CSV files of 20 rows, each with the header."""
    paths = []
    for k, rows in enumerate((taxi_rows[1:21], taxi_rows[21:])):
        path = tmp_path / f"part-{k}.csv"
        path.write_text("\n".join([taxi_rows[0], *rows]) + "\n")
        paths.append(str(path))
    return paths


def test_several_inputs_and_the_summary_as_one_json_line(tmp_path, taxi_rows, capsys):
    paths = _write_halves(tmp_path, taxi_rows)
    output = tmp_path / "out"
    argv = ["ingest", *paths, "--output", str(output), "--workers", "1", "--log-format", "json"]

    assert cli.main(argv) == 0

    (line,) = capsys.readouterr().out.splitlines()
    summary = json.loads(line)
    assert summary["event"] == "ingestion_summary"
    assert summary["files"] == paths
    assert (summary["rows_in"], summary["rows_written"], summary["rows_quarantined"]) == (40, 40, 0)
    assert summary["rows_per_split"] == ingestion.read_result(str(output)).rows_per_split


def test_beam_args_reach_the_beam_runner(tmp_path, taxi_rows, monkeypatch):
    (path, _) = _write_halves(tmp_path, taxi_rows)
    seen = {}

    def fake_ingest(inputs, output_dir, config, **options):
        seen.update(options, inputs=inputs)
        raise ingestion.IngestionError("stopped here")

    monkeypatch.setattr(ingestion, "ingest", fake_ingest)
    argv = ["ingest", path, "--output", str(tmp_path / "out"), "--runner", "beam"]
    argv += ["--beam-arg=--direct_num_workers=2", "--beam-arg=--direct_running_mode=in_memory"]

    assert cli.main([*argv, "--overwrite"]) == cli.EXIT_USAGE  # an IngestionError: input
    assert seen == {
        "inputs": [path],
        "runner": "beam",
        "workers": 0,
        "beam_args": ["--direct_num_workers=2", "--direct_running_mode=in_memory"],
        "overwrite": True,
    }
