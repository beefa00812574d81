"""`read_sample`: the first rows of a file of every input format as the same text cells, and
one error naming the file for a file that is not what its name says."""

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.dataset import SourceFormat
from components.ingestion import IngestionError
from components.ingestion.sample import format_of, read_sample

# Two rows, the second without a fare, in every format.
CELLS = {"id": ["1", "2"], "fare": ["2.5", ""], "company": ["Acme", "Bolt"]}
CSV_TEXT = "id,fare,company\n1,2.5,Acme\n2,,Bolt\n"
JSON_LINES = '{"id": 1, "fare": 2.5, "company": "Acme"}\n{"id": 2, "company": "Bolt"}\n'


def _tfrecord(path, compress=False):
    import tensorflow as tf

    def example(row_id, fare, company):
        feature = {
            "id": tf.train.Feature(int64_list=tf.train.Int64List(value=[row_id])),
            "company": tf.train.Feature(bytes_list=tf.train.BytesList(value=[company])),
        }
        if fare is not None:
            feature["fare"] = tf.train.Feature(float_list=tf.train.FloatList(value=[fare]))
        return tf.train.Example(features=tf.train.Features(feature=feature))

    options = tf.io.TFRecordOptions(compression_type="GZIP" if compress else "")
    with tf.io.TFRecordWriter(str(path), options) as writer:
        writer.write(example(1, 2.5, b"Acme").SerializeToString())
        writer.write(example(2, None, b"Bolt").SerializeToString())


WRITERS = {
    "data.csv": lambda p: p.write_text(CSV_TEXT),
    "bom.csv": lambda p: p.write_bytes(b"\xef\xbb\xbf" + CSV_TEXT.encode()),
    "data.csv.gz": lambda p: p.write_bytes(gzip.compress(CSV_TEXT.encode())),
    "data.jsonl": lambda p: p.write_text(JSON_LINES),
    "data.jsonl.gz": lambda p: p.write_bytes(gzip.compress(JSON_LINES.encode())),
    "data.parquet": lambda p: pq.write_table(
        pa.table({"id": [1, 2], "fare": [2.5, None], "company": ["Acme", "Bolt"]}), p
    ),
    "data.tfrecord": _tfrecord,
    "data.tfrecord.gz": lambda p: _tfrecord(p, compress=True),
}
FORMATS = {
    "data.csv": SourceFormat.CSV,
    "bom.csv": SourceFormat.CSV,
    "data.csv.gz": SourceFormat.CSV,
    "data.jsonl": SourceFormat.JSONL,
    "data.jsonl.gz": SourceFormat.JSONL,
    "data.parquet": SourceFormat.PARQUET,
    "data.tfrecord": SourceFormat.TFRECORD,
    "data.tfrecord.gz": SourceFormat.TFRECORD,
}


@pytest.mark.parametrize("name", list(WRITERS))
def test_every_format_gives_the_same_cells(tmp_path, name):
    path = tmp_path / name
    WRITERS[name](path)
    sample = read_sample(str(path))
    assert (sample.format, sample.delimiter, sample.columns) == (FORMATS[name], ",", CELLS)
    assert sample.rows == 2


@pytest.mark.parametrize(
    "delimiter", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"]
)
def test_the_csv_delimiter_is_found_from_the_header(tmp_path, delimiter):
    path = tmp_path / "data.csv"
    path.write_text(CSV_TEXT.replace(",", delimiter).replace("Acme", '"Acme, Inc."'))
    sample = read_sample(str(path))
    assert sample.delimiter == delimiter
    assert list(sample.columns) == ["id", "fare", "company"]
    assert sample.columns["company"] == ["Acme, Inc.", "Bolt"]


def test_sample_rows_limits_the_rows_of_every_format(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps({"i": i}) + "\n" for i in range(10)))
    assert read_sample(str(path), sample_rows=3).columns == {"i": ["0", "1", "2"]}


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("data.csv.gz", CSV_TEXT.encode(), "data.csv.gz: cannot be read as GZIP (Not a gzipped"),
        ("data.parquet", b"PAR1 but not Parquet", "data.parquet: not a readable Parquet file ("),
        ("data.tfrecord", b"\x05\x00", "data.tfrecord: record 1 is cut short; is it a TFRecord"),
        ("data.jsonl", b'{"id": 1}\n[1, 2]\n', "data.jsonl:2: a JSON list, not an object"),
        ("data.jsonl", b'{"id": 1}\n{"id": \n', "data.jsonl:2: not valid JSON (Expecting value"),
        ("data.csv", b"id,fare\n1,\xff\n", "data.csv:2: not UTF-8 text (byte 3 of the line)"),
        ("data.xlsx", b"PK", "data.xlsx: cannot tell the file's format from its name; name it "),
        ("data.parquet.gz", b"", "data.parquet.gz: cannot tell the file's format"),
    ],
    ids=[
        "gz-not-gzip",
        "not-parquet",
        "not-tfrecord",
        "json-not-object",
        "json-broken",
        "csv-not-utf8",
        "unknown-ending",
        "gzip-parquet",
    ],
)
def test_a_file_that_cannot_be_read_is_one_error_naming_it(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestionError) as caught:
        read_sample(str(path))
    assert str(caught.value).startswith(str(tmp_path) + "/" + message)


def test_format_of_reads_the_name_before_gz():
    assert [format_of(n) for n in ("a.TSV", "b.jsonl.gz", "c.tfrecord.gz")] == [
        SourceFormat.CSV,
        SourceFormat.JSONL,
        SourceFormat.TFRECORD,
    ]
