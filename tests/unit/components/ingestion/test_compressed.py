"""GZIP input (`.csv.gz`, `.jsonl.gz`): read as the plain file would be, line numbers included;
a `.gz` file that is not GZIP, or is cut short, is one error naming it."""

import gzip
import json

import pytest

from components.ingestion import IngestionConfig, IngestionError, RawColumn, ingest

JSONL_CONFIG = IngestionConfig(
    columns=(RawColumn("id", "int", required=True), RawColumn("fare", "float")),
    format="jsonl",
    splits=(("all", 1),),
    max_quarantined_fraction=1.0,
)


def _quarantined(result) -> list[dict]:
    with open(result.quarantine_file) as f:
        return [json.loads(line) for line in f]


def test_gzip_csv_is_read_like_the_plain_file_with_the_same_line_numbers(tmp_path, trips):
    # Small chunks: the line numbers of the bad rows are counted across chunks of the stream.
    content = trips.lines(
        trips.header, trips.good[0], "3,abc,1,Acme", "", trips.good[1], "4,12,1"
    ).encode()
    path = trips.write(tmp_path, gzip.compress(content), "trips.csv.gz")
    settings = trips.config(splits=(("all", 1),), chunk_bytes=16)
    result = ingest(str(path), str(tmp_path / "out"), settings, workers=1)
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (4, 2, 2)
    assert [(r["file"], r["line"], r["check"], r["raw"]) for r in _quarantined(result)] == [
        (str(path), 3, "not_a_number", "3,abc,1,Acme"),
        (str(path), 6, "field_count", "4,12,1"),
    ]
    assert [row["fare"] for row in trips.examples(tmp_path / "out", "all")] == [
        ("float_list", [10.5]),
        ("float_list", [7.25]),
    ]


def test_folder_input_takes_plain_and_gzip_files(tmp_path, trips):
    folder = tmp_path / "in"
    trips.write(folder, trips.lines(trips.header, trips.good[0]), "a.csv")
    trips.write(
        folder, gzip.compress(trips.lines(trips.header, trips.good[1]).encode()), "b.csv.gz"
    )
    trips.write(folder, "not data", "notes.txt")
    result = ingest(str(folder), str(tmp_path / "out"), trips.config(), workers=1)
    assert (result.rows_in, result.rows_written) == (2, 2)


def test_gzip_json_lines_with_a_byte_order_mark(tmp_path):
    lines = ['\ufeff{"id": 1, "fare": 2.5}', '{"id": "x"}', '{"id": 3}']
    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(gzip.compress("".join(line + "\n" for line in lines).encode()))
    result = ingest(str(path), str(tmp_path / "out"), JSONL_CONFIG, workers=1)
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (3, 2, 1)
    assert [(r["line"], r["check"]) for r in _quarantined(result)] == [(2, "not_a_number")]


@pytest.mark.parametrize("name", ["trips.csv.gz", "rows.jsonl.gz"])
def test_gz_file_that_is_not_gzip_is_one_error_naming_it(tmp_path, trips, name):
    path = trips.write(tmp_path, trips.lines(trips.header, *trips.good), name)
    settings = trips.config() if name.endswith("csv.gz") else JSONL_CONFIG
    with pytest.raises(IngestionError) as e:
        ingest(str(path), str(tmp_path / "out"), settings, workers=1)
    assert str(e.value).startswith(f"{path}: cannot be read as GZIP (Not a gzipped file")
    assert str(e.value).endswith("or remove the .gz ending if it is plain text.")
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_gzip_file_cut_short_is_one_error_naming_it(tmp_path, trips):
    rows = [f"{i},{i}.5,1,Acme" for i in range(2000)]
    whole = gzip.compress(trips.lines(trips.header, *rows).encode())
    path = trips.write(tmp_path, whole[: len(whole) // 2], "trips.csv.gz")
    with pytest.raises(IngestionError) as e:
        ingest(str(path), str(tmp_path / "out"), trips.config(), workers=1)
    assert str(e.value).startswith(f"{path}: cannot be read as GZIP (Compressed file ended")
