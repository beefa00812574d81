"""Errors a user can hit at the edge, in words: the output folder, the input files, the spec
`init-spec` writes. `run` and `ingest` refuse the same inputs with the same exit code (2)."""

import errno
import gzip
import json
import os

import pytest

from components import dataset
from pipeline import cli, output_folder
from pipeline.exit_codes import EXIT_USAGE
from pipeline.run_lock import RunLock


@pytest.fixture
def taxi_csv(tmp_path, taxi_rows):
    path = tmp_path / "trips.csv"
    path.write_text("\n".join(taxi_rows) + "\n")
    return path


def _argv(command, data, output):
    if command == "run":
        return ["run", "--data", str(data), "--output", str(output), "-q"]
    return ["ingest", str(data), "--output", str(output), "-q"]


def _one_paragraph(err: str) -> str:
    assert "Traceback" not in err
    assert "Error:" not in err  # no raw exception name (FileExistsError:, OSError:)
    assert err.count("\n") == 1, err  # one paragraph, one line
    return err


@pytest.mark.parametrize("command", ["run", "ingest"])
def test_an_output_that_is_a_file_is_refused_in_words(command, tmp_path, taxi_csv, capsys):
    output = tmp_path / "out.txt"
    output.write_text("not a folder")
    assert cli.main(_argv(command, taxi_csv, output)) == EXIT_USAGE
    err = _one_paragraph(capsys.readouterr().err)
    assert f"--output {output} is a file, not a folder" in err
    assert "Pass a folder path with --output" in err


@pytest.mark.parametrize("command", ["run", "ingest"])
def test_an_output_under_a_file_is_refused_in_words(command, tmp_path, taxi_csv, capsys):
    (tmp_path / "file").write_text("")
    output = tmp_path / "file" / "out"
    assert cli.main(_argv(command, taxi_csv, output)) == EXIT_USAGE
    err = _one_paragraph(capsys.readouterr().err)
    assert f"is under the file {tmp_path / 'file'}, not a folder" in err


@pytest.mark.parametrize("command", ["run", "ingest"])
def test_a_read_only_output_folder_is_refused_in_words(
    command, tmp_path, taxi_csv, capsys, monkeypatch
):
    # Tests may run as root, for whom chmod does not make a folder read-only.
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if str(p) == str(read_only) else real_access(p, mode)
    )
    output = read_only / "out"
    assert cli.main(_argv(command, taxi_csv, output)) == EXIT_USAGE
    err = _one_paragraph(capsys.readouterr().err)
    assert f"--output {output} cannot be written: it is read-only for you ({read_only})" in err
    assert not output.exists()


def test_a_read_only_file_system_met_when_locking_is_refused_in_words(
    tmp_path, taxi_csv, capsys, monkeypatch
):
    def read_only_file_system(self, wait=False):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), self.path)

    monkeypatch.setattr(RunLock, "acquire", read_only_file_system)
    output = tmp_path / "out"
    assert cli.main(_argv("run", taxi_csv, output)) == EXIT_USAGE
    err = _one_paragraph(capsys.readouterr().err)
    assert f"--output {output} cannot be written: the file system is read-only" in err


def test_the_output_check_accepts_a_new_folder_under_a_writable_one(tmp_path):
    output_folder.check_writable_folder(str(tmp_path / "a" / "b"))  # no error
    output_folder.check_writable_folder(str(tmp_path))


@pytest.mark.parametrize("command", ["run", "ingest"])
@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing-column", "line 1: missing column(s) company"),
        ("empty", "the file is empty"),
        (
            "semicolons",
            "The header looks ';'-delimited, not ',': set `source.delimiter: ';'` in spec.yaml.",
        ),
        ("not-gzip", ": cannot be read as GZIP (Not a gzipped file"),
    ],
)
def test_run_and_ingest_refuse_the_same_bad_file_with_exit_2(
    command, damage, message, tmp_path, taxi_rows, capsys
):
    data = tmp_path / ("trips.csv.gz" if damage == "not-gzip" else "trips.csv")
    if damage == "empty":
        data.write_text("")
    elif damage == "semicolons":
        data.write_text("\n".join(r.replace(",", ";") for r in taxi_rows) + "\n")
    elif damage == "not-gzip":
        data.write_text("\n".join(taxi_rows) + "\n")
    else:
        header = taxi_rows[0].split(",")
        drop = header.index("company")
        rows = [",".join(v for i, v in enumerate(r.split(",")) if i != drop) for r in taxi_rows]
        data.write_text("\n".join(rows) + "\n")
    output = tmp_path / "out"
    assert cli.main(_argv(command, data, output)) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"deepline: input error: {data}")
    assert message in err
    assert not (output / "Split-train").exists()


def test_init_spec_elsewhere_writes_a_source_path_that_resolves_from_the_spec(tmp_path, capsys):
    csv_path = tmp_path / "data" / "shop.csv"
    csv_path.parent.mkdir()
    rows = ["price,color,bought"] + [
        f"{1.5 * i},{'red' if i % 3 else 'blue'},{i % 2}" for i in range(60)
    ]
    csv_path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "other" / "dir" / "spec.yaml"  # the folder does not exist yet
    code = cli.main(["init-spec", str(csv_path), "--label", "bought", "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    draft = dataset.load_spec(str(out))
    assert draft.source.path == os.path.join("..", "..", "data", "shop.csv")
    assert os.path.normpath(out.parent / draft.source.path) == str(csv_path)
    assert draft.label.column == "bought"
    assert "source.path (../../data/shop.csv) is relative to this file's folder" in out.read_text()


def test_init_spec_into_a_folder_it_cannot_write_is_a_usage_error(tmp_path, capsys):
    csv_path = tmp_path / "shop.csv"
    csv_path.write_text("price,bought\n" + "".join(f"{i},{i % 2}\n" for i in range(30)))
    code = cli.main(["init-spec", str(csv_path), "--label", "bought", "--output", str(tmp_path)])
    assert code == EXIT_USAGE
    err = _one_paragraph(capsys.readouterr().err)
    assert f"cannot write the spec to {tmp_path}: Is a directory" in err


def _shop_rows(delimiter=","):
    rows = ["price,color,bought"] + [
        f"{1.5 * i},{'red' if i % 3 else 'blue'},{i % 2}" for i in range(60)
    ]
    return "".join(row.replace(",", delimiter) + "\n" for row in rows)


WRITE_SHOP = {
    "shop.csv": lambda p: p.write_text(_shop_rows(";")),
    "shop.csv.gz": lambda p: p.write_bytes(gzip.compress(_shop_rows("\t").encode())),
    "shop.jsonl.gz": lambda p: p.write_bytes(
        gzip.compress(
            "".join(
                json.dumps({"price": 1.5 * i, "color": "red" if i % 3 else "blue", "bought": i % 2})
                + "\n"
                for i in range(60)
            ).encode()
        )
    ),
}


@pytest.mark.parametrize("name", list(WRITE_SHOP))
def test_init_spec_drafts_a_spec_that_ingest_reads_the_same_file_with(name, tmp_path, capsys):
    data = tmp_path / name
    WRITE_SHOP[name](data)
    spec_path = tmp_path / "spec.yaml"
    code = cli.main(["init-spec", str(data), "--label", "bought", "--output", str(spec_path)])
    assert code == 0, capsys.readouterr().err
    draft = dataset.load_spec(str(spec_path))
    expected = {
        "shop.csv": ("csv", ";"),
        "shop.csv.gz": ("csv", "\t"),
        "shop.jsonl.gz": ("jsonl", ","),
    }
    assert (draft.source.format.value, draft.source.delimiter) == expected[name]
    assert (draft.source.path, draft.name) == (name, "shop")
    out = tmp_path / "out"
    assert cli.main(["ingest", "--spec", str(spec_path), "--output", str(out), "-q"]) == 0
    summary = json.loads((out / "ingestion_summary.json").read_text())
    assert (summary["rows_in"], summary["rows_written"], summary["rows_quarantined"]) == (60, 60, 0)


def test_init_spec_on_a_broken_parquet_file_is_one_paragraph_naming_it(tmp_path, capsys):
    data = tmp_path / "shop.parquet"
    data.write_bytes(b"PAR1 cut short")
    assert cli.main(["init-spec", str(data), "--label", "bought"]) == EXIT_USAGE
    err = _one_paragraph(capsys.readouterr().err)
    assert f"{data}: not a readable Parquet file (" in err
    assert err.rstrip().endswith(
        "Check that the file is complete and is Parquet, or convert it to CSV."
    )
