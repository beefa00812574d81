"""CSV ingestion: every row is written or quarantined with its reason, values round-trip exactly."""

import json
import random
import re
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import tensorflow as tf

from components.ingestion import (
    ColumnSpec,
    IngestionConfig,
    IngestionError,
    LabelRule,
    checks,
    ingest,
    non_negative,
    read_result,
    spec_config,
)
from components.spec import load_spec

HEADER = "id,fare,tips,company"
GOOD = ["1,10.5,2,Acme", "2,7.25,0,Bolt"]
COLUMNS = (
    ColumnSpec("id", "int", required=True),
    ColumnSpec("fare", "float", required=True),
    ColumnSpec("tips", "float"),
    ColumnSpec("company", "string"),
)


def config(**overrides) -> IngestionConfig:
    settings = {
        "columns": COLUMNS,
        "label": LabelRule("tips", check=non_negative, description="tips must be >= 0"),
        "max_quarantined_fraction": 1.0,
    }
    return IngestionConfig(**{**settings, **overrides})


def write(tmp_path, content, name="trips.csv"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def run(tmp_path, content, settings=None, **kwargs):
    """Ingests `content`; returns the result and the quarantine records."""
    path = write(tmp_path, content)
    result = ingest(str(path), str(tmp_path / "out"), settings or config(), workers=1, **kwargs)
    with open(result.quarantine_file) as f:
        return result, [json.loads(line) for line in f]


def examples(output_dir, split=None) -> list[dict]:
    """Reads every written Example back as {feature: (kind, values)}, shard by shard."""
    pattern = f"{output_dir}/Split-{split or '*'}/data_tfrecord-*.gz"
    rows = []
    paths = sorted(tf.io.gfile.glob(pattern))
    dataset = tf.data.TFRecordDataset(paths, compression_type="GZIP").batch(4096)
    for record in (r for batch in dataset.as_numpy_iterator() for r in batch):
        example = tf.train.Example.FromString(record)
        row = {}
        for key, feature in example.features.feature.items():
            kind = feature.WhichOneof("kind")
            row[key] = (kind, list(getattr(feature, kind).value))
        rows.append(row)
    return rows


def lines(*rows) -> str:
    return "".join(row + "\n" for row in rows)


def assert_balanced(result):
    assert result.rows_in == result.rows_written + result.rows_quarantined
    assert result.rows_written == sum(result.rows_per_split.values())


BAD_ROWS = [
    ("3,abc,1,Acme", "not_a_number", "column 'fare': 'abc' is not a number"),
    ("3,12,1.5.1,Acme", "not_a_number", "column 'tips': '1.5.1' is not a number"),
    ("x3,12,1,Acme", "not_a_number", "column 'id': 'x3' is not an integer"),
    ("0x1f,12,1,Acme", "not_a_number", "column 'id': '0x1f' is not an integer"),
    ("3.0,12,1,Acme", "not_a_number", "column 'id': '3.0' is not an integer"),
    ("3, 12,1,Acme", "not_a_number", "column 'fare': ' 12' is not a number"),
    ("3,nan,1,Acme", "nan", "column 'fare': 'nan' (NaN) is not a value"),
    ("3,12,NaN,Acme", "nan", "column 'tips': 'NaN' (NaN)"),
    ("3,inf,1,Acme", "infinite", "column 'fare': 'inf' is infinite"),
    ("3,-Infinity,1,Acme", "infinite", "column 'fare': '-Infinity' is infinite"),
    ("3,+inf,1,Acme", "infinite", "column 'fare': '+inf' is infinite"),
    ("3,1e39,1,Acme", "out_of_range", "'1e39' overflows float32"),
    ("3,1e400,1,Acme", "out_of_range", "'1e400' overflows float32"),
    ("9223372036854775808,1,1,Acme", "out_of_range", "is outside int64"),
    ("3,,1,Acme", "missing_value", "column 'fare': the value is required but empty"),
    ("3,12,-0.5,Acme", "label", "label column 'tips': '-0.5' fails the label check"),
    ("3,12,1", "field_count", "3 field(s) where the header has 4"),
    ("3,12,1,Acme,extra", "field_count", "5 field(s) where the header has 4"),
    ("3;12;1;Acme", "field_count", "1 field(s) where the header has 4"),
    ('3,12,1,"Acme', "bad_quoting", "quoting is malformed"),
    ('3,12,1,"A"c"', "bad_quoting", "quoting is malformed"),
    (HEADER, "header_repeated", "the header line appears again"),
]


@pytest.mark.parametrize("bad,check,reason", BAD_ROWS, ids=[c + ":" + b for b, c, _ in BAD_ROWS])
def test_bad_row_is_quarantined_with_reason(tmp_path, bad, check, reason):
    result, records = run(tmp_path, lines(HEADER, GOOD[0], bad, GOOD[1]))
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (3, 2, 1)
    assert result.quarantined_by_check == {check: 1}
    [record] = records
    assert reason in record.pop("reason")
    assert record == {"file": str(tmp_path / "trips.csv"), "line": 3, "check": check, "raw": bad}


def test_non_utf8_bytes(tmp_path):
    content = lines(HEADER, GOOD[0]).encode() + b"3,12,1,Caf\xe9\n" + lines(GOOD[1]).encode()
    result, records = run(tmp_path, content)
    assert (result.rows_written, result.rows_quarantined) == (2, 1)
    assert records[0]["check"] == "not_utf8"
    assert records[0]["reason"].startswith("byte 0xe9 at position 11 of the line is not UTF-8")
    assert records[0]["raw"] == "3,12,1,Caf\\xe9"


def test_truncated_last_line_without_newline(tmp_path):
    result, records = run(tmp_path, lines(HEADER, *GOOD) + "3,12")
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (3, 2, 1)
    assert (records[0]["line"], records[0]["check"], records[0]["raw"]) == (
        4,
        "field_count",
        "3,12",
    )


def test_complete_last_line_without_newline_is_a_row(tmp_path):
    result, records = run(tmp_path, lines(HEADER, GOOD[0]) + GOOD[1])
    assert (result.rows_in, result.rows_written, records) == (2, 2, [])


def test_ten_megabyte_field(tmp_path):
    big = "x" * (10 << 20)
    result, records = run(tmp_path, lines(HEADER, GOOD[0], f"3,12,1,{big}", GOOD[1]))
    assert (result.rows_written, result.rows_quarantined) == (2, 1)
    assert records[0]["check"] == "field_too_large"
    assert records[0]["reason"] == (
        "column 'company': the field has 10485760 bytes, more than max_field_bytes=1048576"
    )
    assert records[0]["raw"].endswith("... [cut: the line has 10485767 bytes]")
    assert len(records[0]["raw"]) == 10_000 + len("... [cut: the line has 10485767 bytes]")


@pytest.mark.parametrize("chunk_bytes", [1 << 20, 64], ids=["whole", "streamed"])
@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_line_over_max_line_bytes(tmp_path, chunk_bytes, ending):
    settings = config(max_field_bytes=100, max_line_bytes=200, chunk_bytes=chunk_bytes)
    long_line = "3,12,1," + "y" * 500
    content = ending.join([HEADER, GOOD[0], long_line, GOOD[1], ""])
    result, records = run(tmp_path, content, settings)
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (3, 2, 1)
    assert (records[0]["line"], records[0]["check"]) == (3, "line_too_long")
    assert records[0]["reason"] == "the line has 507 bytes, more than max_line_bytes=200"
    assert records[0]["raw"] == long_line


def test_wrong_delimiter_in_whole_file_is_a_clear_error(tmp_path):
    content = lines(HEADER.replace(",", ";"), *(g.replace(",", ";") for g in GOOD))
    with pytest.raises(IngestionError, match=r"trips\.csv, line 1: missing required column") as e:
        run(tmp_path, content)
    assert "'id', 'fare'" in str(e.value)
    assert "The header contains ';'" in str(e.value)
    assert "delimiter=';'" in str(e.value)


def test_wrong_delimiter_in_rows_quarantines_every_row(tmp_path):
    content = lines(HEADER, *(g.replace(",", ";") for g in GOOD))
    with pytest.raises(IngestionError, match=r"2 of 2 rows \(100\.00%\) failed the checks"):
        run(tmp_path, content, config(max_quarantined_fraction=0.0))
    result = read_result(str(tmp_path / "out"))
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (2, 0, 2)
    assert result.quarantined_by_check == {"field_count": 2}


def test_empty_file_is_an_error(tmp_path):
    with pytest.raises(IngestionError, match=r"trips\.csv: the file is empty"):
        run(tmp_path, "")


def test_header_only_file_alone_is_an_error_after_writing_the_summary(tmp_path):
    with pytest.raises(IngestionError, match=r"No data rows in .*trips\.csv"):
        run(tmp_path, lines(HEADER))
    assert read_result(str(tmp_path / "out")).rows_in == 0


def test_header_only_file_next_to_others_contributes_zero_rows(tmp_path):
    write(tmp_path / "in", lines(HEADER), "a.csv")
    write(tmp_path / "in", lines(HEADER, *GOOD), "b.csv")
    result = ingest(str(tmp_path / "in"), str(tmp_path / "out"), config(), workers=1)
    assert (result.rows_in, result.rows_written, len(result.files)) == (2, 2, 2)


def test_missing_required_column_is_named(tmp_path):
    with pytest.raises(IngestionError, match=r"line 1: missing required column\(s\) 'fare'\."):
        run(tmp_path, lines("id,tips,company", "1,2,Acme"))


def test_missing_optional_column_is_reported_and_left_out(tmp_path):
    result, _ = run(tmp_path, lines("id,fare,tips", "1,10.5,2"))
    path = str(tmp_path / "trips.csv")
    assert result.absent_columns == {path: ["company"]}
    assert examples(tmp_path / "out") == [
        {"id": ("int64_list", [1]), "fare": ("float_list", [10.5]), "tips": ("float_list", [2.0])}
    ]


def test_extra_column_is_reported_and_kept_out_of_examples(tmp_path):
    result, _ = run(tmp_path, lines("id,note,fare,tips,company", "1,hello,10.5,2,Acme"))
    assert result.ignored_columns == {str(tmp_path / "trips.csv"): ["note"]}
    assert examples(tmp_path / "out") == [
        {
            "id": ("int64_list", [1]),
            "fare": ("float_list", [10.5]),
            "tips": ("float_list", [2.0]),
            "company": ("bytes_list", [b"Acme"]),
        }
    ]


def test_values_round_trip_exactly(tmp_path):
    content = lines(
        HEADER,
        "1,10.5,2,Acme",
        "-7,0.1,,",  # empty optional cells: typed empty lists, as CsvExampleGen writes
        '+8,1e3,.5,"Acme, Inc."',  # quoted delimiter; leading "+"; exponent; bare fraction
        "9223372036854775807,-0,3.,Ünïcode",
    )
    result, records = run(tmp_path, content, config(splits=(("all", 1),)))
    assert (result.rows_written, records) == (4, [])
    assert examples(tmp_path / "out", "all") == [
        {
            "id": ("int64_list", [1]),
            "fare": ("float_list", [10.5]),
            "tips": ("float_list", [2.0]),
            "company": ("bytes_list", [b"Acme"]),
        },
        {
            "id": ("int64_list", [-7]),
            "fare": ("float_list", [pytest.approx(0.1, rel=1e-7)]),
            "tips": ("float_list", []),
            "company": ("bytes_list", []),
        },
        {
            "id": ("int64_list", [8]),
            "fare": ("float_list", [1000.0]),
            "tips": ("float_list", [0.5]),
            "company": ("bytes_list", [b"Acme, Inc."]),
        },
        {
            "id": ("int64_list", [9223372036854775807]),
            "fare": ("float_list", [0.0]),
            "tips": ("float_list", [3.0]),
            "company": ("bytes_list", ["Ünïcode".encode()]),
        },
    ]


def test_byte_order_mark_before_the_header(tmp_path):
    result, records = run(tmp_path, b"\xef\xbb\xbf" + lines(HEADER, *GOOD).encode())
    assert (result.rows_written, records) == (2, [])


def test_crlf_line_endings_and_blank_lines(tmp_path):
    content = (HEADER + "\r\n" + GOOD[0] + "\r\n\r\n\n" + GOOD[1] + "\r\n").encode()
    result, records = run(tmp_path, content, config(splits=(("all", 1),)))
    assert (result.rows_in, result.rows_written, result.blank_lines, records) == (2, 2, 2, [])
    assert [row["company"] for row in examples(tmp_path / "out", "all")] == [
        ("bytes_list", [b"Acme"]),
        ("bytes_list", [b"Bolt"]),
    ]


@pytest.mark.parametrize(
    "value,check",
    [("inf", "infinite"), ("1e39", "out_of_range"), ("1e400", "out_of_range"), ("nan", "nan")],
)
def test_reason_does_not_depend_on_the_rest_of_the_column(tmp_path, value, check):
    # Alone, the column casts as a whole; next to "abc" it takes the row-by-row path.
    alone, _ = run(tmp_path / "a", lines(HEADER, f"1,{value},1,A"))
    mixed, _ = run(tmp_path / "b", lines(HEADER, f"1,{value},1,A", "2,abc,1,B"))
    assert alone.quarantined_by_check == {check: 1}
    assert mixed.quarantined_by_check == {check: 1, "not_a_number": 1}


def test_allowed_label_values(tmp_path):
    settings = config(label=LabelRule("id", allowed=(0, 1)))
    result, records = run(tmp_path, lines(HEADER, "0,1,1,A", "1,1,1,B", "2,1,1,C"), settings)
    assert (result.rows_written, records[0]["line"], records[0]["check"]) == (2, 4, "label")
    assert (
        records[0]["reason"]
        == "label column 'id': '2' fails the label check: allowed values are 0, 1"
    )


def many_rows(count: int, bad_every: int = 0) -> str:
    rows = [HEADER]
    for i in range(count):
        bad = bad_every and i % bad_every == 0
        rows.append(f"{i},{'oops' if bad else i % 97 + 0.25},{i % 5},company {i % 13}")
    return lines(*rows)


def memberships(output_dir) -> dict[str, list[int]]:
    return {
        split: sorted(row["id"][1][0] for row in examples(output_dir, split))
        for split in ("train", "eval", "test")
    }


def test_counts_and_line_numbers_do_not_depend_on_ranges_or_chunks(tmp_path):
    content = many_rows(3000, bad_every=101)
    one, records_one = run(tmp_path / "one", content)
    cut_settings = config(range_bytes=5000, chunk_bytes=700)
    cut, records_cut = run(tmp_path / "cut", content, cut_settings)
    assert (one.rows_in, one.rows_written, one.rows_quarantined) == (3000, 2970, 30)
    assert (cut.rows_in, cut.rows_written, cut.rows_quarantined) == (3000, 2970, 30)
    assert (one.shards, cut.shards) == (1, 14)  # 68,245 bytes after the header, in 5,000s
    assert [{**r, "file": ""} for r in records_cut] == [{**r, "file": ""} for r in records_one]
    assert [r["line"] for r in records_one[:3]] == [2, 103, 204]
    assert memberships(tmp_path / "one" / "out") == memberships(tmp_path / "cut" / "out")


def test_split_is_by_hash_of_row_text_and_close_to_ratios(tmp_path):
    result, _ = run(tmp_path, many_rows(3000))
    splits = memberships(tmp_path / "out")
    assert {k: len(v) for k, v in splits.items()} == result.rows_per_split
    shares = {k: len(v) / 3000 for k, v in splits.items()}
    assert shares == pytest.approx({"train": 0.70, "eval": 0.15, "test": 0.15}, abs=0.03)
    row = "17,17.25,2,company 4"  # row 17 of many_rows, split by hand
    bucket = zlib.crc32(row.encode()) % 20
    expected = "train" if bucket < 14 else "eval" if bucket < 17 else "test"
    assert 17 in splits[expected]


def test_split_key_keeps_rows_with_one_key_together(tmp_path):
    columns = COLUMNS[:3] + (ColumnSpec("company", "string", required=True),)
    result, _ = run(tmp_path, many_rows(600), config(columns=columns, split_key="company"))
    companies = {
        split: {row["company"][1][0] for row in examples(tmp_path / "out", split)}
        for split in ("train", "eval", "test")
    }
    assert sum(len(c) for c in companies.values()) == 13  # each company in exactly one split
    assert result.rows_written == 600


def test_fraction_limit_raises_naming_the_quarantine_file_after_writing(tmp_path):
    content = lines(HEADER, *GOOD, "3,abc,1,C", "4,5,1,D")
    with pytest.raises(IngestionError) as error:
        run(tmp_path, content, config(max_quarantined_fraction=0.2))
    quarantine = tmp_path / "out" / "quarantine" / "rows.jsonl"
    message = str(error.value)
    assert "1 of 4 rows (25.00%) failed the checks, more than max_quarantined_fraction=20.00%" in (
        message
    )
    assert str(quarantine) in message
    assert "not_a_number: 1" in message
    assert quarantine.read_text().count("\n") == 1
    assert read_result(str(tmp_path / "out")).rows_written == 3
    ok, _ = run(tmp_path / "again", content, config(max_quarantined_fraction=0.25))
    assert ok.rows_quarantined == 1


def test_summary_file_matches_result(tmp_path):
    result, _ = run(tmp_path, many_rows(50, bad_every=10))
    assert_balanced(result)
    assert read_result(str(tmp_path / "out")) == result
    summary = json.loads((tmp_path / "out" / "ingestion_summary.json").read_text())
    assert (summary["rows_in"], summary["rows_quarantined"]) == (50, 5)


def test_earlier_output_is_not_mixed_in(tmp_path):
    run(tmp_path, lines(HEADER, *GOOD))
    with pytest.raises(IngestionError, match="already holds ingestion output"):
        run(tmp_path, lines(HEADER, *GOOD))
    result, _ = run(tmp_path, lines(HEADER, GOOD[0]), overwrite=True)
    assert result.rows_in == 1


def test_bundled_taxi_rows_all_pass(tmp_path, taxi_rows):
    taxi = load_spec(Path(__file__).parents[3] / "data" / "taxi" / "spec.yaml")
    result, records = run(tmp_path, lines(*taxi_rows), spec_config(taxi))
    assert (result.rows_in, result.rows_written, records) == (40, 40, [])
    # Line 2: ,12.45,5,19,6,1400269500,,,,,0.0,,,Credit Card,Chicago Elite Cab Corp. (Chicago
    # Carriag,0,,0.0
    [first] = [
        r for r in examples(tmp_path / "out") if r["trip_start_timestamp"][1] == [1400269500]
    ]
    assert first == {
        "pickup_community_area": ("int64_list", []),
        "fare": ("float_list", [pytest.approx(12.45, rel=1e-7)]),
        "trip_start_month": ("int64_list", [5]),
        "trip_start_hour": ("int64_list", [19]),
        "trip_start_day": ("int64_list", [6]),
        "trip_start_timestamp": ("int64_list", [1400269500]),
        "pickup_latitude": ("float_list", []),
        "pickup_longitude": ("float_list", []),
        "dropoff_latitude": ("float_list", []),
        "dropoff_longitude": ("float_list", []),
        "trip_miles": ("float_list", [0.0]),
        "pickup_census_tract": ("int64_list", []),
        "dropoff_census_tract": ("int64_list", []),
        "payment_type": ("bytes_list", [b"Credit Card"]),
        "company": ("bytes_list", [b"Chicago Elite Cab Corp. (Chicago Carriag"]),
        "trip_seconds": ("int64_list", [0]),
        "dropoff_community_area": ("int64_list", []),
        "tips": ("float_list", [0.0]),
    }


@pytest.mark.integration
def test_two_local_workers_match_one(tmp_path):
    content = many_rows(2000, bad_every=97)
    one, records_one = run(tmp_path / "one", content, config(range_bytes=8000))
    two_path = write(tmp_path, content, "two.csv")
    two = ingest(str(two_path), str(tmp_path / "two"), config(range_bytes=8000), workers=2)
    assert (two.rows_in, two.rows_written, two.shards) == (
        one.rows_in,
        one.rows_written,
        one.shards,
    )
    assert memberships(tmp_path / "two") == memberships(tmp_path / "one" / "out")


@pytest.mark.integration
def test_beam_runner_matches_local(tmp_path):
    content = many_rows(1000, bad_every=97)
    local, records_local = run(tmp_path / "local", content, config(range_bytes=6000))
    path = write(tmp_path, content, "beam.csv")
    beam = ingest(
        str(path), str(tmp_path / "beam"), config(range_bytes=6000), runner="beam", beam_args=[]
    )
    assert beam.runner == "beam"
    assert (beam.rows_in, beam.rows_written, beam.rows_quarantined, beam.shards) == (
        local.rows_in,
        local.rows_written,
        local.rows_quarantined,
        local.shards,
    )
    assert memberships(tmp_path / "beam") == memberships(tmp_path / "local" / "out")
    with open(beam.quarantine_file) as f:
        assert [json.loads(x)["line"] for x in f] == [r["line"] for r in records_local]


def test_pyarrow_casts_accept_only_the_documented_syntax():
    # checks.py trusts a successful whole-column cast; this pins what pyarrow's cast accepts.
    alphabet = "0123456789.eE+-xXnaifty _"
    generator = random.Random(0)
    texts = {"".join(generator.choices(alphabet, k=generator.randint(1, 5))) for _ in range(3000)}
    texts |= {"nan", "-Inf", "Infinity", "0x1f", "1e5", ".5", "5.", "+5", "1_000", " 5"}
    floats = re.compile("|".join([checks.FLOAT_SYNTAX, checks.NAN_SYNTAX, checks.INF_SYNTAX]), re.I)
    ints = re.compile(checks.INT_SYNTAX)
    for text in sorted(texts):
        try:
            pc.cast(pa.array([text]), pa.float64())
            assert floats.match(text), text
        except pa.ArrowInvalid:
            pass
        try:
            pc.cast(pa.array([text]), pa.int64())
            assert ints.match(text) or "x" in text.lower(), text
        except pa.ArrowInvalid:
            pass
