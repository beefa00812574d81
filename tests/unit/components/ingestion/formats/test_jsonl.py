"""JSON lines ingestion: one object per line, the same checks, encoding and quarantine as CSV."""

import json
from pathlib import Path

import pytest

from components.dataset import parse_spec
from components.ingestion import (
    IngestionConfig,
    IngestionError,
    LabelRule,
    RawColumn,
    ingest,
    spec_config,
)

COLUMNS = (
    RawColumn("id", "int", required=True),
    RawColumn("fare", "float"),
    RawColumn("company", "string"),
    RawColumn("paid", "int", required=True),
)
CONFIG = IngestionConfig(
    columns=COLUMNS,
    label=LabelRule("paid", allowed=(0, 1)),
    format="jsonl",
    max_quarantined_fraction=1.0,
)


def _ingest(tmp_path, lines: list[str], config=CONFIG):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    result = ingest(str(path), str(tmp_path / "out"), config, workers=1)
    quarantined = [json.loads(x) for x in Path(result.quarantine_file).read_text().splitlines()]
    return result, quarantined


def test_objects_become_examples_with_exact_values_and_missing_keys_empty(
    tmp_path, written_examples
):
    result, quarantined = _ingest(
        tmp_path,
        [
            '{"id": 1, "fare": 12.5, "company": "Acme", "paid": 1}',
            '{"id": 2, "fare": 1e2, "paid": 0, "unknown": [1, 2]}',  # unknown keys are ignored
            "",  # blank: not a row
            '{"id": 3, "fare": null, "company": "Zoë", "paid": 1}',
        ],
    )
    assert (result.rows_in, result.rows_written, quarantined) == (3, 3, [])
    assert written_examples(tmp_path / "out") == [
        {"id": [1], "fare": [12.5], "company": [b"Acme"], "paid": [1]},
        {"id": [2], "fare": [100.0], "company": [], "paid": [0]},
        {"id": [3], "fare": [], "company": ["Zoë".encode()], "paid": [1]},
    ]


@pytest.mark.parametrize(
    "line, check, reason",
    [
        ('{"id": 1, "paid": 1', "not_json", "not valid JSON: Expecting ',' delimiter"),
        ("[1, 2, 3]", "not_json_object", "a JSON list, not an object of columns"),
        ('{"id": 1, "fare": [3], "paid": 1}', "not_one_value", "column 'fare': '[3]' is a list"),
        ('{"id": 1, "fare": "cheap", "paid": 1}', "not_a_number", "column 'fare'"),
        ('{"fare": 3, "paid": 1}', "missing_value", "column 'id': the value is required"),
        ('{"id": 1, "paid": 2}', "label", "label column 'paid': '2' fails the label check"),
        ('{"id": 1.5, "paid": 1}', "not_a_number", "column 'id': '1.5' is not an integer"),
    ],
    ids=["truncated", "not-object", "nested", "text-number", "missing-key", "label", "int"],
)
def test_a_bad_line_is_quarantined_alone_with_its_reason(tmp_path, line, check, reason):
    good = '{"id": 9, "fare": 3.5, "paid": 0}'
    result, quarantined = _ingest(tmp_path, [good, line, good])
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (3, 2, 1)
    (record,) = quarantined
    assert (record["line"], record["raw"]) == (2, line)
    assert record["check"] == check, record
    assert reason in record["reason"]


def test_a_folder_means_its_jsonl_files(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text('{"id": 1, "paid": 1}\n')
    (tmp_path / "in" / "b.csv").write_text("id,paid\n2,0\n")  # not read
    result = ingest(str(tmp_path / "in"), str(tmp_path / "out"), CONFIG, workers=1)
    assert result.rows_in == 1
    with pytest.raises(IngestionError, match=r"folders of \*\.jsonl files"):
        ingest(str(tmp_path / "nothing"), str(tmp_path / "out2"), CONFIG, workers=1)


def test_a_spec_with_a_jsonl_source_ingests_jsonl():
    data = {
        "source": {"format": "jsonl", "path": "rows.jsonl"},
        "label": {"column": "y", "kind": "regression"},
        "features": {"x": "numeric"},
    }
    assert spec_config(parse_spec(data)).format == "jsonl"


def test_the_pipelines_example_gen_ingests_a_jsonl_spec(
    tmp_path, run_example_gen, written_examples
):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.jsonl").write_text(
        "".join(json.dumps({"x": i / 10, "y": 2 * i}) + "\n" for i in range(30))
        + '{"x": "n/a", "y": 1}\n'
    )
    spec = parse_spec(
        {
            "source": {"format": "jsonl", "path": "data"},
            "label": {"column": "y", "kind": "regression"},
            "features": {"x": "numeric"},
        }
    )
    run_example_gen(tmp_path / "data", "*.jsonl", spec, max_quarantined_fraction=0.1)
    summary = json.loads((tmp_path / "examples" / "ingestion_summary.json").read_text())
    assert (summary["rows_in"], summary["rows_written"], summary["rows_quarantined"]) == (31, 30, 1)
    assert [r["y"] for r in written_examples(tmp_path / "examples", key="y")] == [
        [float(2 * i)] for i in range(30)
    ]
