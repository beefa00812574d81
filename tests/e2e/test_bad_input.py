"""Bad input through the real CLI: a clear error or a validation stop, never a pushed model."""

import csv
import itertools
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TAXI_CSV = ROOT / "data" / "taxi" / "data.csv"


def _taxi_rows(n):
    with open(TAXI_CSV, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(itertools.islice(reader, n))


def _write(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _nothing_trained_or_pushed(output: Path):
    assert not (output / "serving_model").exists()
    assert not (output / "pipeline" / "Transform").exists()
    assert not (output / "pipeline" / "Trainer").exists()


def test_new_payment_type_stops_the_run_at_validation(tmp_path, cli):
    header, rows = _taxi_rows(3000)
    for row in rows[::100]:
        row["payment_type"] = "Bitcoin"
    data = _write(tmp_path / "trips.csv", header, rows)
    output = tmp_path / "out"
    proc = cli("run", "--data", data, "--output", output)
    assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "column 'payment_type'" in proc.stderr
    assert "Bitcoin" in proc.stderr
    assert "Traceback" not in proc.stderr
    _nothing_trained_or_pushed(output)


def test_bad_rows_are_quarantined_and_counted_within_the_allowed_fraction(tmp_path, cli):
    header, rows = _taxi_rows(3000)
    rows[10]["trip_miles"] = "n/a"
    rows[20]["fare"] = "inf"
    for row in rows[::100]:
        row["payment_type"] = "Bitcoin"  # stops the run at validation, after ingestion
    data = _write(tmp_path / "trips.csv", header, rows)
    output = tmp_path / "out"
    proc = cli("run", "--data", data, "--output", output, "--max-quarantined-fraction", "0.01")
    assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr[-4000:]
    (ingested,) = (output / "pipeline" / "CsvExampleGen" / "examples").glob("*/")
    counts = json.loads((ingested / "ingestion_summary.json").read_text())
    assert (counts["rows_in"], counts["rows_written"], counts["rows_quarantined"]) == (
        3000,
        2998,
        2,
    )
    quarantined = [json.loads(line) for line in (ingested / "quarantine" / "rows.jsonl").open()]
    assert sorted(r["line"] for r in quarantined) == [12, 22]  # header is line 1
    assert {r["check"] for r in quarantined} == {"not_a_number", "infinite"}
    assert all(r["file"] == str(data) for r in quarantined)


@pytest.mark.parametrize(
    "damage, message",
    [
        ("non-numeric", "not_a_number: 1"),
        ("truncated", "field_count: 1"),
    ],
)
def test_a_bad_row_fails_the_run_by_default_pointing_at_the_quarantine(
    tmp_path, cli, damage, message
):
    header, rows = _taxi_rows(10)
    data = tmp_path / "trips.csv"
    if damage == "non-numeric":
        rows[1]["trip_miles"] = "n/a"
        _write(data, header, rows)
    else:
        _write(data, header, rows)
        with open(data, "a") as f:
            f.write(",".join(rows[0][h] for h in header[:6]))  # cut mid-row, no newline
    output = tmp_path / "out"
    proc = cli("run", "--data", data, "--output", output)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "quarantine" in proc.stderr and "rows.jsonl" in proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    _nothing_trained_or_pushed(output)


@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing-column", "line 1: missing column(s) company"),
        ("empty", "the file is empty"),
    ],
)
def test_malformed_csv_is_refused_before_the_pipeline_starts(tmp_path, cli, damage, message):
    header, rows = _taxi_rows(10)
    data = tmp_path / "trips.csv"
    if damage == "missing-column":
        _write(
            data,
            [h for h in header if h != "company"],
            [{k: v for k, v in r.items() if k != "company"} for r in rows],
        )
    else:
        data.write_text("")
    output = tmp_path / "out"
    proc = cli("run", "--data", data, "--output", output)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert str(data) in proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not output.exists()


def test_an_unreadable_schema_fails_the_run_with_one_paragraph(tmp_path, cli):
    schema = tmp_path / "schema.pbtxt"
    schema.write_text("feature { name: 'fare' type: NOT_A_TYPE }\n")
    output = tmp_path / "out"
    proc = cli("run", "--schema", schema, "--output", output)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert f"{schema}: cannot read the schema" in proc.stderr
    assert "NOT_A_TYPE" in proc.stderr
    assert "Traceback" not in proc.stderr
    _nothing_trained_or_pushed(output)
