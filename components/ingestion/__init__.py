"""Fast, loss-free CSV ingestion: checked rows to GZIP TFRecord splits, bad rows to quarantine.

A replacement for CsvExampleGen that keeps going past a malformed row: every
data row ends either as a tf.Example in one split or as a JSON line in
`<output>/quarantine/rows.jsonl` with its file, line and reason, so
rows_in == rows_written + rows_quarantined. The output folder has
CsvExampleGen's layout (`Split-<name>/data_tfrecord-XXXXX-of-YYYYY.gz`).

    from components.ingestion import ingest, taxi_config
    result = ingest("data/taxi/data.csv", "/tmp/examples", taxi_config())

An empty input file (no header) is an error before anything is written; a
file with a header and no rows contributes zero rows; if no file has a row,
ingestion raises after writing the (empty) outputs and summary.

Modules, in the order a row meets them: `spec` (columns, label rule,
settings), `header` (each file's header), `lines` (byte ranges, streamed as
whole-line chunks), `parse` (line checks, parsing), `checks` (value checks),
`encode` (Examples, splits), `writer` (shards, quarantine), `reader` (one
range end to end), `result` (summary, limits), `ingest` (planning and the
local runner), `beam` (the Beam pipeline).
"""

from components.ingestion.ingest import RUNNERS, ingest, input_files
from components.ingestion.result import IngestionResult, read_result
from components.ingestion.spec import (
    ColumnSpec,
    IngestionConfig,
    IngestionError,
    LabelRule,
    non_negative,
    schema_columns,
    taxi_columns,
    taxi_config,
    taxi_label_rule,
)

__all__ = [
    "RUNNERS",
    "ColumnSpec",
    "IngestionConfig",
    "IngestionError",
    "IngestionResult",
    "LabelRule",
    "ingest",
    "input_files",
    "non_negative",
    "read_result",
    "schema_columns",
    "taxi_columns",
    "taxi_config",
    "taxi_label_rule",
]
