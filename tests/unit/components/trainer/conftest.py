"""What the Trainer's tests share: a Transform graph analyzed on a few rows, as TFX writes it."""

import tempfile

import pytest
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

from components import transform


@pytest.fixture(scope="session")
def analyze_transform():
    """`analyze(folder, spec, raw_spec, rows)`: the Transform graph of data set `spec`
    analyzed on `rows` (dicts of raw values by `raw_spec`), written to `folder` as TFX's
    Transform writes it; returns its `TFTransformOutput`."""

    def analyze(folder: str, spec, raw_spec: dict, rows: list) -> tft.TFTransformOutput:
        metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(raw_spec))
        with tempfile.TemporaryDirectory() as tmp, tft_beam.Context(temp_dir=tmp):
            transform_fn = (rows, metadata) | tft_beam.AnalyzeDataset(
                lambda inputs: transform.transform_features(inputs, spec)
            )
            _ = transform_fn | tft_beam.WriteTransformFn(folder)
        metadata_io.write_metadata(metadata, f"{folder}/{tft.TFTransformOutput.RAW_METADATA_DIR}")
        return tft.TFTransformOutput(folder)

    return analyze
