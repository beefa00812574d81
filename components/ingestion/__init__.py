"""Fast, loss-free ingestion: checked rows to GZIP TFRecord splits, bad rows to quarantine.

A replacement for CsvExampleGen that reads CSV, JSON lines, Parquet and
TFRecord files (`formats`) and keeps going past a malformed row: every
data row ends either as a tf.Example in one split or as a JSON line in
`<output>/quarantine/rows.jsonl` with its file, line and reason, so
rows_in == rows_written + rows_quarantined. The output folder has
CsvExampleGen's layout (`Split-<name>/data_tfrecord-XXXXX-of-YYYYY.gz`).

    from components import dataset
    from components.ingestion import ingest, spec_config
    settings = spec_config(dataset.load_spec("data/taxi/spec.yaml"))
    result = ingest("data/taxi/data.csv", "/tmp/examples", settings)

An empty input file (no header) is an error before anything is written; a
file with a header and no rows contributes zero rows; if no file has a row,
ingestion raises after writing the (empty) outputs and summary.

Modules, in the order a row meets them: `settings` (raw columns, label rule,
settings), `dataset` (the settings from a data set's spec and schema),
`formats` (the table of input formats, one module each: a file's `layout`,
its units of work, reading them as parsed chunks), `layout` (how a file's
columns map to the spec), `lines` (byte ranges, streamed as whole-line
chunks), `chunks` (parsed chunks, line checks), `records` (rows of formats
without lines as chunks), `checks` (value checks, value bounds), `encode`
(Examples, splits), `writer` (shards, quarantine), `reader` (one unit end to
end), `result` (summary, limits), `ingest` (planning and the local runner),
`beam` (the Beam pipeline); beside them, `sample` (a file's first rows as
text cells, which `init-spec` profiles). Files whose name ends in ".gz" are
read through GZIP (`files.open_content`).
"""

from components.ingestion.dataset import (
    label_rule,
    schema_columns,
    spec_columns,
    spec_config,
)
from components.ingestion.formats import FORMATS, Format, get_format
from components.ingestion.ingest import RUNNERS, ingest, input_files
from components.ingestion.result import IngestionResult, read_result
from components.ingestion.settings import (
    IngestionConfig,
    IngestionError,
    LabelRule,
    RawColumn,
    non_negative,
)

__all__ = [
    "FORMATS",
    "RUNNERS",
    "RawColumn",
    "Format",
    "IngestionConfig",
    "IngestionError",
    "IngestionResult",
    "LabelRule",
    "ingest",
    "input_files",
    "get_format",
    "label_rule",
    "non_negative",
    "read_result",
    "schema_columns",
    "spec_columns",
    "spec_config",
]
