"""CSV ingestion's output: rows in = rows written + rows quarantined however the input is cut
into ranges, chunks or workers and whichever runner reads it; the split of every row; the
quarantine limit; the summary file; an earlier output.

The checks of single rows: formats/test_csv.py. The trips CSV these tests write (`trips`) is a
fixture of conftest.py.
"""

import json
import zlib

import pytest

from components.ingestion import IngestionError, RawColumn, ingest, read_result


def assert_balanced(result):
    assert result.rows_in == result.rows_written + result.rows_quarantined
    assert result.rows_written == sum(result.rows_per_split.values())


def memberships(trips, output_dir) -> dict[str, list[int]]:
    """The ids of the rows written to each split, sorted."""
    return {
        split: sorted(row["id"][1][0] for row in trips.examples(output_dir, split))
        for split in ("train", "eval", "test")
    }


def test_counts_and_line_numbers_do_not_depend_on_ranges_or_chunks(tmp_path, trips):
    content = trips.many_rows(3000, bad_every=101)
    one, records_one = trips.run(tmp_path / "one", content)
    cut_settings = trips.config(range_bytes=5000, chunk_bytes=700)
    cut, records_cut = trips.run(tmp_path / "cut", content, cut_settings)
    assert (one.rows_in, one.rows_written, one.rows_quarantined) == (3000, 2970, 30)
    assert (cut.rows_in, cut.rows_written, cut.rows_quarantined) == (3000, 2970, 30)
    assert (one.shards, cut.shards) == (1, 14)  # 68,245 bytes after the header, in 5,000s
    assert [{**r, "file": ""} for r in records_cut] == [{**r, "file": ""} for r in records_one]
    assert [r["line"] for r in records_one[:3]] == [2, 103, 204]
    assert memberships(trips, tmp_path / "one" / "out") == memberships(
        trips, tmp_path / "cut" / "out"
    )


def test_split_is_by_hash_of_row_text_and_close_to_ratios(tmp_path, trips):
    result, _ = trips.run(tmp_path, trips.many_rows(3000))
    splits = memberships(trips, tmp_path / "out")
    assert {k: len(v) for k, v in splits.items()} == result.rows_per_split
    shares = {k: len(v) / 3000 for k, v in splits.items()}
    assert shares == pytest.approx({"train": 0.70, "eval": 0.15, "test": 0.15}, abs=0.03)
    row = "17,17.25,2,company 4"  # row 17 of many_rows, split by hand
    bucket = zlib.crc32(row.encode()) % 20
    expected = "train" if bucket < 14 else "eval" if bucket < 17 else "test"
    assert 17 in splits[expected]


def test_split_key_keeps_rows_with_one_key_together(tmp_path, trips):
    columns = trips.columns[:3] + (RawColumn("company", "string", required=True),)
    result, _ = trips.run(
        tmp_path, trips.many_rows(600), trips.config(columns=columns, split_key="company")
    )
    companies = {
        split: {row["company"][1][0] for row in trips.examples(tmp_path / "out", split)}
        for split in ("train", "eval", "test")
    }
    assert sum(len(c) for c in companies.values()) == 13  # each company in exactly one split
    assert result.rows_written == 600


def test_fraction_limit_raises_naming_the_quarantine_file_after_writing(tmp_path, trips):
    content = trips.lines(trips.header, *trips.good, "3,abc,1,C", "4,5,1,D")
    with pytest.raises(IngestionError) as error:
        trips.run(tmp_path, content, trips.config(max_quarantined_fraction=0.2))
    quarantine = tmp_path / "out" / "quarantine" / "rows.jsonl"
    message = str(error.value)
    assert "1 of 4 rows (25.00%) failed the checks, more than max_quarantined_fraction=20.00%" in (
        message
    )
    assert str(quarantine) in message
    assert "not_a_number: 1" in message
    assert quarantine.read_text().count("\n") == 1
    assert read_result(str(tmp_path / "out")).rows_written == 3
    ok, _ = trips.run(tmp_path / "again", content, trips.config(max_quarantined_fraction=0.25))
    assert ok.rows_quarantined == 1


def test_summary_file_matches_result(tmp_path, trips):
    result, _ = trips.run(tmp_path, trips.many_rows(50, bad_every=10))
    assert_balanced(result)
    assert read_result(str(tmp_path / "out")) == result
    summary = json.loads((tmp_path / "out" / "ingestion_summary.json").read_text())
    assert (summary["rows_in"], summary["rows_quarantined"]) == (50, 5)


def test_earlier_output_is_not_mixed_in(tmp_path, trips):
    trips.run(tmp_path, trips.lines(trips.header, *trips.good))
    with pytest.raises(IngestionError, match="already holds ingestion output"):
        trips.run(tmp_path, trips.lines(trips.header, *trips.good))
    result, _ = trips.run(tmp_path, trips.lines(trips.header, trips.good[0]), overwrite=True)
    assert result.rows_in == 1


@pytest.mark.integration
def test_two_local_workers_match_one(tmp_path, trips):
    content = trips.many_rows(2000, bad_every=97)
    one, records_one = trips.run(tmp_path / "one", content, trips.config(range_bytes=8000))
    two_path = trips.write(tmp_path, content, "two.csv")
    two = ingest(str(two_path), str(tmp_path / "two"), trips.config(range_bytes=8000), workers=2)
    assert (two.rows_in, two.rows_written, two.shards) == (
        one.rows_in,
        one.rows_written,
        one.shards,
    )
    assert memberships(trips, tmp_path / "two") == memberships(trips, tmp_path / "one" / "out")


@pytest.mark.integration
def test_beam_runner_matches_local(tmp_path, trips):
    content = trips.many_rows(1000, bad_every=97)
    local, records_local = trips.run(tmp_path / "local", content, trips.config(range_bytes=6000))
    path = trips.write(tmp_path, content, "beam.csv")
    beam = ingest(
        str(path),
        str(tmp_path / "beam"),
        trips.config(range_bytes=6000),
        runner="beam",
        beam_args=[],
    )
    assert beam.runner == "beam"
    assert (beam.rows_in, beam.rows_written, beam.rows_quarantined, beam.shards) == (
        local.rows_in,
        local.rows_written,
        local.rows_quarantined,
        local.shards,
    )
    assert memberships(trips, tmp_path / "beam") == memberships(trips, tmp_path / "local" / "out")
    with open(beam.quarantine_file) as f:
        assert [json.loads(x)["line"] for x in f] == [r["line"] for r in records_local]


def test_an_unknown_format_fails_before_anything_is_written(tmp_path, trips):
    path = trips.write(tmp_path, trips.lines(trips.header, *trips.good))
    with pytest.raises(ValueError, match=r"format must be one of .*, got 'xlsx'"):
        ingest(str(path), str(tmp_path / "out"), trips.config(format="xlsx"), workers=1)
    assert not (tmp_path / "out").exists()
