"""Parquet ingestion: typed columns, one task per row group, the same checks and quarantine."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.ingestion import IngestionConfig, IngestionError, LabelRule, RawColumn, ingest

COLUMNS = (
    RawColumn("id", "int", required=True),
    RawColumn("fare", "float"),
    RawColumn("company", "string"),
    RawColumn("paid", "string", required=True),
)
CONFIG = IngestionConfig(
    columns=COLUMNS,
    label=LabelRule("paid", allowed=("no", "yes")),
    format="parquet",
    max_quarantined_fraction=1.0,
)


def _write(path, table: pa.Table, row_group_size=None) -> str:
    pq.write_table(table, path, row_group_size=row_group_size)
    return str(path)


def test_typed_columns_become_examples_with_their_values(tmp_path, written_examples):
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "fare": pa.array([12.5, None, 0.1], pa.float64()),
            "company": pa.array(["Acme", "Zoë", None]).dictionary_encode(),
            "paid": ["yes", "no", "yes"],
            "extra": [[1], [2], [3]],  # not a spec column: ignored, lists and all
        }
    )
    path = _write(tmp_path / "trips.parquet", table)
    result = ingest(path, str(tmp_path / "out"), CONFIG, workers=1)
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (3, 3, 0)
    assert written_examples(tmp_path / "out") == [
        {"id": [1], "fare": [12.5], "company": [b"Acme"], "paid": [b"yes"]},
        {"id": [2], "fare": [], "company": ["Zoë".encode()], "paid": [b"no"]},
        {"id": [3], "fare": [pytest.approx(0.1)], "company": [], "paid": [b"yes"]},
    ]


def test_each_row_group_is_a_task_and_bad_rows_are_numbered_in_the_file(tmp_path, written_examples):
    ids = list(range(1, 11))
    paid = ["yes"] * 10
    paid[6] = "maybe"  # row 7, in the third row group of 3 rows
    table = pa.table({"id": ids, "fare": [float(i) for i in ids], "paid": paid})
    path = _write(tmp_path / "trips.parquet", table, row_group_size=3)
    result = ingest(path, str(tmp_path / "out"), CONFIG, workers=2)
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (10, 9, 1)
    (record,) = [json.loads(x) for x in Path(result.quarantine_file).read_text().splitlines()]
    assert (record["line"], record["check"]) == (7, "label")
    assert json.loads(record["raw"]) == {"id": "7", "fare": "7", "paid": "maybe"}
    assert sorted(e["id"][0] for e in written_examples(tmp_path / "out")) == [
        1,
        2,
        3,
        4,
        5,
        6,
        8,
        9,
        10,
    ]


def test_a_missing_required_column_or_a_nested_spec_column_is_an_error(tmp_path):
    path = _write(tmp_path / "a.parquet", pa.table({"id": [1], "fare": [1.0]}))
    with pytest.raises(IngestionError, match="missing required column\\(s\\) 'paid'"):
        ingest(path, str(tmp_path / "out"), CONFIG, workers=1)
    path = _write(tmp_path / "b.parquet", pa.table({"id": [1], "paid": ["no"], "fare": [[1.0]]}))
    with pytest.raises(IngestionError, match="'fare' hold lists or structs"):
        ingest(path, str(tmp_path / "out"), CONFIG, workers=1)


def test_a_file_that_is_not_parquet_is_named(tmp_path):
    path = tmp_path / "c.parquet"
    path.write_text("id,paid\n1,no\n")
    with pytest.raises(IngestionError, match="not a readable Parquet file"):
        ingest(str(path), str(tmp_path / "out"), CONFIG, workers=1)


def test_parquet_and_csv_of_the_same_rows_give_the_same_examples(tmp_path, written_examples):
    rows = {"id": [1, 2, 3], "fare": [1.25, None, 3e-5], "paid": ["no", "yes", "no"]}
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "t.csv").write_text("id,fare,paid\n1,1.25,no\n2,,yes\n3,3e-05,no\n")
    ingest(
        str(tmp_path / "csv"),
        str(tmp_path / "from_csv"),
        CONFIG.__class__(columns=COLUMNS[:2] + COLUMNS[3:], label=CONFIG.label),
        workers=1,
    )
    path = _write(tmp_path / "t.parquet", pa.table(rows))
    config = IngestionConfig(
        columns=COLUMNS[:2] + COLUMNS[3:], label=CONFIG.label, format="parquet"
    )
    ingest(path, str(tmp_path / "from_parquet"), config, workers=1)
    assert written_examples(tmp_path / "from_parquet") == written_examples(tmp_path / "from_csv")


def test_the_pipelines_example_gen_ingests_a_parquet_spec(tmp_path, run_example_gen):
    from components.dataset import parse_spec

    (tmp_path / "data").mkdir()
    table = pa.table({"x": [i / 10 for i in range(30)], "y": [2 * i for i in range(30)]})
    _write(tmp_path / "data" / "part-0.parquet", table, row_group_size=7)
    spec = parse_spec(
        {
            "source": {"format": "parquet", "path": "data"},
            "label": {"column": "y", "kind": "regression"},
            "features": {"x": "numeric"},
        }
    )
    examples = run_example_gen(tmp_path / "data", "*.parquet", spec)
    summary = json.loads((tmp_path / "examples" / "ingestion_summary.json").read_text())
    assert (summary["rows_in"], summary["rows_written"]) == (30, 30)
    shards = sorted(Path(examples.uri).glob("Split-train/*.gz"))
    assert len(shards) == 5  # one shard per row group: 7 + 7 + 7 + 7 + 2 rows
