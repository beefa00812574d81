"""Accepted rows to serialized tf.Examples, and each row's split.

Values become one-element feature lists; an empty cell becomes an empty
list of the column's type (`int64_list {}`), which is what CsvExampleGen
writes. The encoding itself is tfx_bsl's C++ RecordBatch-to-Example encoder.

A row's split is chosen by hashing its text (or its `split_key` value) with
CRC-32 into `total buckets` buckets; the splits own consecutive bucket
ranges in their declared order, as in CsvExampleGen's hash buckets. The hash
of the text, not the line number, decides, so the split of a row does not
depend on where the file is cut or how many workers run, and identical rows
land in the same split (no copy of a training row in the test split).
"""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa
from tfx_bsl.coders.example_coder import RecordBatchToExamplesEncoder

from components.ingestion.checks import CheckedChunk
from components.ingestion.chunks import ParsedChunk
from components.ingestion.lines import LineChunk
from components.ingestion.settings import IngestionConfig


def _feature_list(values: pa.Array) -> pa.Array:
    """One-element lists of the present values; empty lists where the cell was empty."""
    present = np.asarray(values.is_valid(), dtype=bool)
    offsets = np.concatenate(([0], np.cumsum(present, dtype=np.int32)))
    # list<> rather than large_list<>: tfx_bsl encodes it about 8% faster.
    return pa.ListArray.from_arrays(pa.array(offsets), values.drop_null())


def encode_examples(checked: CheckedChunk, encoder: RecordBatchToExamplesEncoder) -> list[bytes]:
    """Returns one serialized tf.Example per accepted row, in row order."""
    if not len(checked.lines):
        return []
    names = list(checked.values)
    batch = pa.RecordBatch.from_arrays([_feature_list(checked.values[n]) for n in names], names)
    return encoder.encode(batch)


def split_of_rows(
    checked: CheckedChunk, chunk: LineChunk, parsed: ParsedChunk, config: IngestionConfig
) -> np.ndarray:
    """Returns the index (into `config.splits`) of each accepted row's split."""
    if config.split_key is None:
        view = memoryview(chunk.data)
        starts, ends = chunk.starts[checked.lines].tolist(), chunk.ends[checked.lines].tolist()
        hashes = [zlib.crc32(view[s:e]) for s, e in zip(starts, ends, strict=True)]
    else:
        accepted_rows = np.searchsorted(parsed.rows, checked.lines)
        keys = parsed.columns[config.split_key].take(pa.array(accepted_rows)).to_pylist()
        hashes = [zlib.crc32(k) for k in keys]
    buckets = np.asarray(hashes, dtype=np.uint64) % np.uint64(sum(b for _, b in config.splits))
    bounds = np.cumsum([b for _, b in config.splits])
    return np.searchsorted(bounds, buckets.astype(np.int64), side="right")
