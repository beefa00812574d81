"""Synthetic taxi-like CSV: row count, columns, missing rates, jitter rules, determinism."""

import csv
import io

import numpy as np
import pytest

from data import synth

SOURCE = (
    "fare,trip_seconds,company,tips\n10.00,60,A,0\n50.00,300,B,\n100.00,600,,5.5\n,120,C,1.25\n"
)


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def column(rows, header, name):
    return [row[header.index(name)] for row in rows]


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "source.csv"
    path.write_text(SOURCE)
    return path


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(synth, "CHUNK_ROWS", 1000)  # several chunks on a few thousand rows


def test_taxi_rows_and_columns(tmp_path, small_chunks):
    out = tmp_path / "taxi.csv"
    assert synth.TaxiLikeGenerator().write(out, 2500, seed=3) == 2500
    header, rows = read(out)
    with open(synth.SOURCE) as f:
        assert header == next(csv.reader(f))
    assert len(rows) == 2500
    assert {len(row) for row in rows} == {18}


def test_taxi_missing_rates_match_the_source(tmp_path):
    out = tmp_path / "taxi.csv"
    synth.TaxiLikeGenerator().write(out, 20_000, seed=0)
    header, rows = read(out)
    _, source_rows = read(synth.SOURCE)
    for name in ("dropoff_census_tract", "company", "dropoff_latitude", "trip_seconds"):
        made = np.mean([v == "" for v in column(rows, header, name)])
        real = np.mean([v == "" for v in column(source_rows, header, name)])
        assert made == pytest.approx(real, abs=0.015), name


def test_taxi_codes_are_copied_and_measures_keep_range_and_type(tmp_path):
    out = tmp_path / "taxi.csv"
    synth.TaxiLikeGenerator().write(out, 5000, seed=1)
    header, rows = read(out)
    _, source_rows = read(synth.SOURCE)
    for code in ("trip_start_hour", "trip_start_month", "pickup_census_tract", "company"):
        assert set(column(rows, header, code)) <= set(column(source_rows, header, code)), code
    seconds = [v for v in column(rows, header, "trip_seconds") if v]
    assert all(v.lstrip("-").isdigit() for v in seconds)
    for name in ("fare", "tips", "pickup_latitude", "trip_miles"):
        made = [float(v) for v in column(rows, header, name) if v]
        real = [float(v) for v in column(source_rows, header, name) if v]
        assert min(real) <= min(made) and max(made) <= max(real), name


def test_jitter_is_small_multiplicative_noise(tmp_path, source):
    out = tmp_path / "out.csv"
    generator = synth.TaxiLikeGenerator(source, jitter=["fare", "trip_seconds", "tips"])
    generator.write(out, 4000, seed=7)
    header, rows = read(out)
    fares = np.array([float(v) for v in column(rows, header, "fare") if v])
    near_50 = fares[(fares > 40) & (fares < 60)]
    # fare's std / mean is 36.8 / 53.3, so the relative noise is 0.01 * 0.69 = 0.0069.
    assert near_50.mean() == pytest.approx(50.0, abs=0.05)
    assert near_50.std() == pytest.approx(50 * 0.0069, rel=0.1)
    assert len(set(near_50)) > 100  # jittered, not copied
    seconds = column(rows, header, "trip_seconds")
    assert all(v.isdigit() for v in seconds)  # integer column stays integer
    assert set(column(rows, header, "company")) == {"A", "B", "", "C"}  # copied as-is
    assert np.mean([v == "" for v in column(rows, header, "fare")]) == pytest.approx(0.25, abs=0.03)
    assert np.mean([v == "" for v in column(rows, header, "tips")]) == pytest.approx(0.25, abs=0.03)
    assert min(float(v) for v in column(rows, header, "tips") if v) >= 0.0
    assert all(len(v.split(".")[-1]) <= 2 for v in column(rows, header, "fare") if "." in v)


def test_same_seed_same_bytes_and_shorter_runs_are_prefixes(tmp_path, small_chunks):
    generator = synth.TaxiLikeGenerator()
    paths = [tmp_path / name for name in ("a.csv", "b.csv", "c.csv", "d.csv")]
    generator.write(paths[0], 2500, seed=5)
    generator.write(paths[1], 2500, seed=5)
    generator.write(paths[2], 2500, seed=6)
    generator.write(paths[3], 1500, seed=5)
    a, b, c, d = (p.read_bytes() for p in paths)
    assert a == b
    assert a != c
    assert a.startswith(d)


def test_quoted_source_values_stay_quoted(tmp_path):
    path = tmp_path / "source.csv"
    path.write_text('fare,company\n1.5,"Acme, Inc."\n')
    out = tmp_path / "out.csv"
    synth.TaxiLikeGenerator(path, jitter=["fare"]).write(out, 3)
    assert read(out)[1] == [["1.5", "Acme, Inc."]] * 3


def test_unknown_jitter_column_is_named(source):
    with pytest.raises(
        ValueError, match=r"jitter column\(s\) \['distance'\] are not in the header"
    ):
        synth.TaxiLikeGenerator(source, jitter=["distance"])


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli.csv"
    assert synth.main(["--rows", "10", "--output", str(out), "--seed", "2"]) == 0
    assert capsys.readouterr().out.startswith(f"wrote 10 rows to {out} in ")
    assert len(io.StringIO(out.read_text()).readlines()) == 11
