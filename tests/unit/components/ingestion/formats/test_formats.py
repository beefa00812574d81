"""The table of input formats: one entry per spec `source.format`, each with the same interface,
and each entry's layout, plan, read and row count on a tiny file of three rows."""

import importlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.dataset import SourceFormat
from components.ingestion import IngestionConfig, RawColumn
from components.ingestion.formats import FORMATS, get_format
from components.ingestion.lines import ByteRange, OversizedLine

COLUMNS = (
    RawColumn("id", "int", required=True),
    RawColumn("name", "string"),
    RawColumn("score", "float"),
)
ID, NAME, SCORE = COLUMNS


def test_every_spec_source_format_has_one_entry():
    assert sorted(FORMATS) == sorted(f.value for f in SourceFormat)
    assert all(FORMATS[name].name == name for name in FORMATS)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_entry_is_one_module_of_the_package(name):
    # A format module may take a function from a shared module (CSV and JSON lines plan and
    # count as line_based does); the table holds what the format's own module names.
    entry = FORMATS[name]
    module = importlib.import_module(f"components.ingestion.formats.{name}")
    for function in ("layout", "plan", "read", "count_rows"):
        assert getattr(entry, function) is getattr(module, function), function


def test_rows_are_named_by_line_only_in_line_formats():
    assert {name: f.has_lines for name, f in FORMATS.items()} == {
        "csv": True,
        "jsonl": True,
        "parquet": False,
        "tfrecord": False,
    }


def test_an_unknown_format_names_the_known_ones():
    with pytest.raises(ValueError, match=r"format must be one of \('csv', 'jsonl', 'parquet', "):
        get_format("xlsx")


def _write_csv(path):
    # 14 bytes of header, then 6 + 6 + 1 (blank) + 6: 33 bytes.
    path.write_bytes(b"id,name,extra\n1,a,x\n2,b,y\n\n3,c,z\n")


def _write_jsonl(path):
    lines = ['{"id": 1, "name": "a"}', '{"id": 2, "name": "b", "x": [1]}', "", '{"id": 3}']
    path.write_text("".join(line + "\n" for line in lines))


def _write_parquet(path):
    table = pa.table({"id": [1, 2, 3], "name": ["a", None, "c"], "extra": [0.5, 1.5, 2.5]})
    pq.write_table(table, path, row_group_size=2)


def _write_tfrecord(path):
    import tensorflow as tf

    def example(**features):
        return tf.train.Example(features=tf.train.Features(feature=features))

    def ints(v):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[v]))

    def text(v):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v]))

    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in (
            example(id=ints(1), name=text(b"a")),
            example(id=ints(2)),
            example(id=ints(3), name=text(b"c")),
        ):
            writer.write(record.SerializeToString())


# name: (writer, layout (present, ignored, absent, header, num_fields, body_start), units planned
# from shard 4 (start, end, shard), the unit read, rows read (file position), cells read).
CASES = {
    "csv": (
        _write_csv,
        ((0, ID), (1, NAME)),
        ("extra",),
        ("score",),
        ("id", "name", "extra"),
        3,
        14,
        [(14, 33, 4)],
        0,
        [0, 1, 3],  # line 2 (0-based in the range) is blank: not a row
        {"id": [b"1", b"2", b"3"], "name": [b"a", b"b", b"c"]},
    ),
    "jsonl": (
        _write_jsonl,
        ((0, ID), (1, NAME), (2, SCORE)),
        (),
        (),
        (),
        3,
        0,
        [(0, 67, 4)],
        0,
        [0, 1, 3],
        {"id": [b"1", b"2", b"3"], "name": [b"a", b"b", b""], "score": [b"", b"", b""]},
    ),
    "parquet": (
        _write_parquet,
        ((0, ID), (1, NAME)),
        ("extra",),
        ("score",),
        ("id", "name", "extra"),
        3,
        0,
        [(0, 1, 4), (1, 2, 5)],  # two row groups
        1,
        [2],  # the second row group holds the third row
        {"id": [b"3"], "name": [b"c"]},
    ),
    "tfrecord": (
        _write_tfrecord,
        ((0, ID), (1, NAME), (2, SCORE)),
        (),
        (),
        (),
        3,
        0,
        [(0, 1, 4)],  # the whole file
        0,
        [0, 1, 2],
        {"id": [b"1", b"2", b"3"], "name": [b"a", b"", b"c"], "score": [b"", b"", b""]},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layout_plan_read_and_count_rows_on_a_tiny_file(tmp_path, name):
    (write, present, ignored, absent, header, fields, body, units, unit, rows, cells) = CASES[name]
    path = tmp_path / f"rows.{name}"
    write(path)
    config = IngestionConfig(columns=COLUMNS, format=name)
    entry = FORMATS[name]

    layout = entry.layout(str(path), config)
    assert (layout.path, layout.present, layout.ignored, layout.absent) == (
        str(path),
        present,
        ignored,
        absent,
    )
    assert (layout.header, layout.num_fields, layout.body_start) == (header, fields, body)

    planned = entry.plan(layout, config, 4)
    assert planned == [ByteRange(str(path), start, end, shard) for start, end, shard in units]

    items = list(entry.read(planned[unit], layout, config))
    assert not any(isinstance(item, OversizedLine) for item in items)
    read_rows = [c.first_line + int(r) for c, p in items for r in p.rows]
    read_cells = {n: [v for _, p in items for v in p.columns[n].to_pylist()] for n in cells}
    assert (read_rows, read_cells) == (rows, cells)
    assert all(not p.failures.reasons for _, p in items)

    assert entry.count_rows(layout) == 3


def test_rows_without_lines_are_shown_as_json_objects(tmp_path):
    path = tmp_path / "rows.parquet"
    _write_parquet(path)
    config = IngestionConfig(columns=COLUMNS, format="parquet")
    layout = FORMATS["parquet"].layout(str(path), config)
    ((chunk, _),) = FORMATS["parquet"].read(ByteRange(str(path), 0, 1, 0), layout, config)
    assert [json.loads(chunk.line(i)) for i in range(len(chunk))] == [
        {"id": "1", "name": "a"},
        {"id": "2", "name": ""},
    ]
