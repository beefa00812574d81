"""Bad input files end in a clear error that names the file, line and column."""

import dataclasses
import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.dataset import load_spec
from pipeline import preflight

TAXI = load_spec(Path(__file__).parents[3] / "data" / "taxi" / "spec.yaml")


@pytest.fixture
def write_csv(tmp_path):
    def write(lines, name="trips.csv"):
        path = tmp_path / name
        path.write_text("".join(line + "\n" for line in lines))
        return path

    return write


def test_good_file_counts_rows(write_csv, taxi_rows):
    path = write_csv(taxi_rows)
    assert preflight.check_inputs(str(path.parent), path.name, TAXI) == {str(path): 40}


def test_missing_column_is_named(write_csv, taxi_rows):
    header = taxi_rows[0].split(",")
    drop = header.index("trip_miles")
    lines = [",".join(v for i, v in enumerate(row.split(",")) if i != drop) for row in taxi_rows]
    path = write_csv(lines)
    with pytest.raises(
        preflight.InputDataError, match=r"trips\.csv, line 1: missing column\(s\) trip_miles"
    ):
        preflight.check_file(str(path), TAXI)


def test_a_non_numeric_value_is_left_to_the_ingestion_to_quarantine(write_csv, taxi_rows):
    header = taxi_rows[0].split(",")
    fields = taxi_rows[5].split(",")
    fields[header.index("fare")] = "twelve"
    path = write_csv(taxi_rows[:5] + [",".join(fields)] + taxi_rows[6:])
    assert preflight.check_file(str(path), TAXI) == 40


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(preflight.InputDataError, match=r"empty\.csv: the file is empty"):
        preflight.check_file(str(path), TAXI)


def test_header_only_file(write_csv, taxi_rows):
    path = write_csv(taxi_rows[:1])
    with pytest.raises(preflight.InputDataError, match="header but no rows"):
        preflight.check_file(str(path), TAXI)


def test_a_truncated_last_line_is_left_to_the_ingestion_to_quarantine(tmp_path, taxi_rows):
    text = "\n".join(taxi_rows)
    path = tmp_path / "cut.csv"
    path.write_text(text[: len(text) - len(taxi_rows[-1]) // 2])  # half the last line
    assert preflight.check_file(str(path), TAXI) == 40


def test_unknown_category_passes_preflight_for_the_validator(write_csv, taxi_rows):
    # A new payment type is well-formed CSV; the schema check (validator) stops it.
    header = taxi_rows[0].split(",")
    fields = taxi_rows[1].split(",")
    fields[header.index("payment_type")] = "Bitcoin"
    path = write_csv([taxi_rows[0], ",".join(fields)])
    assert preflight.check_file(str(path), TAXI) == 1


def test_no_matching_file(tmp_path):
    with pytest.raises(preflight.InputDataError, match="No input file matches"):
        preflight.input_files(str(tmp_path), "*.csv")


def test_span_pattern_picks_the_newest_or_the_asked_span(tmp_path):
    for span in (1, 2, 10):
        (tmp_path / f"span-{span}").mkdir()
    (tmp_path / "notes").mkdir()
    assert preflight.span_pattern(str(tmp_path), "span-{SPAN}/*.csv", None) == ("span-10/*.csv", 10)
    assert preflight.span_pattern(str(tmp_path), "span-{SPAN}/*.csv", 2) == ("span-2/*.csv", 2)
    with pytest.raises(preflight.InputDataError, match="span 3 not found .* are 1, 2, 10"):
        preflight.span_pattern(str(tmp_path), "span-{SPAN}/*.csv", 3)


def test_other_formats_are_counted_through_the_format_table(tmp_path):
    (tmp_path / "rows.jsonl").write_text('{"fare": 1}\n\n{"fare": 2}\n')
    pq.write_table(pa.table({"fare": [1.0, 2.0, 3.0]}), tmp_path / "rows.parquet")
    assert preflight.check_inputs(str(tmp_path), "*.jsonl", TAXI, "jsonl") == {
        str(tmp_path / "rows.jsonl"): 2
    }
    assert preflight.check_inputs(str(tmp_path), "*.parquet", TAXI, "parquet") == {
        str(tmp_path / "rows.parquet"): 3
    }


def test_a_file_that_is_not_parquet_is_named(tmp_path):
    path = tmp_path / "rows.parquet"
    path.write_text("fare\n1\n")
    with pytest.raises(preflight.InputDataError, match=r"rows\.parquet: not a readable Parquet"):
        preflight.check_file(str(path), TAXI, "parquet")


def test_gzip_csv_is_counted_and_one_cut_short_is_refused_by_name(tmp_path, taxi_rows):
    whole = gzip.compress("".join(line + "\n" for line in taxi_rows * 50).encode())
    good = tmp_path / "good.csv.gz"
    good.write_bytes(whole)
    # The header repeated 49 times counts as rows here; ingestion quarantines them.
    assert preflight.check_inputs(str(tmp_path), "good.csv.gz", TAXI) == {str(good): 40 * 50 + 49}
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(preflight.InputDataError) as e:
        preflight.check_file(str(cut), TAXI)
    assert str(e.value).startswith(f"{cut}: cannot be read as GZIP (Compressed file ended")


def test_byte_order_mark_before_the_header_is_not_part_of_the_first_column(tmp_path, taxi_rows):
    path = tmp_path / "trips.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(line + "\n" for line in taxi_rows).encode())
    assert preflight.check_file(str(path), TAXI) == 40


def test_another_delimiter_names_the_spec_option_and_the_spec_file(write_csv, taxi_rows):
    path = write_csv([row.replace(",", ";") for row in taxi_rows])
    with pytest.raises(preflight.InputDataError) as e:
        preflight.check_file(str(path), TAXI)
    assert str(e.value).endswith(
        "The header looks ';'-delimited, not ',': set `source.delimiter: ';'` in spec.yaml."
    )
    semicolons = dataclasses.replace(TAXI, source=dataclasses.replace(TAXI.source, delimiter=";"))
    assert preflight.check_file(str(path), semicolons) == 40
