"""The pipeline's ExampleGen: TFX's file-based ExampleGen with our loss-free ingestion inside.

TFX's driver still resolves the span (`span-{SPAN}` folders, `range_config`),
fingerprints the input files (so a changed file is a cache miss) and records
span and version on the Examples artifact. The executor replaces the CSV
reading: rows are checked against the data set spec's columns (typed by the
curated schema when there is one) and its label's classes;
good rows become the usual `Split-<name>/` GZIP TFRecord shards, bad rows go
to `quarantine/rows.jsonl` inside the artifact, and `ingestion_summary.json`
there has the counts (rows in = rows written + rows quarantined). More
quarantined rows than `max_quarantined_fraction` fail the component, naming
the quarantine file, after everything is written.

Locally the rows are read in line-aligned byte ranges by a process per core;
with a distributed Beam runner (Dataflow) the same code runs as a Beam pipeline.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from google.protobuf import any_pb2, json_format, struct_pb2
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from components import dataset
from components.ingestion.dataset import spec_config, unreadable_schema
from components.ingestion.ingest import ingest
from components.ingestion.settings import IngestionError
from pipeline import contracts

logger = logging.getLogger(__name__)

SPEC_KEY = contracts.EXAMPLE_GEN_SPEC_KEY
SCHEMA_KEY = "schema"
MAX_QUARANTINED_FRACTION_KEY = "max_quarantined_fraction"
_LOCAL_RUNNERS = ("DirectRunner", "direct", "")


def ingestion_custom_config(
    spec: dataset.DatasetSpec, schema: str | None, max_quarantined_fraction: float
) -> Any:
    """The ExampleGen `custom_config` proto carrying the executor's settings.

    Args:
      spec: The data set spec: the columns a row must have, the label's
        classes, the split key.
      schema: A curated schema (`schema.pbtxt`) whose types the columns are
        read with, or None for the types the spec implies.
      max_quarantined_fraction: Fail when a larger fraction of rows is quarantined.
    """
    settings = struct_pb2.Struct()
    settings.update(
        {
            # As JSON text: a Struct would turn the spec's integers into floats.
            SPEC_KEY: json.dumps(dataset.to_custom_config(spec), sort_keys=True),
            SCHEMA_KEY: schema or "",
            MAX_QUARANTINED_FRACTION_KEY: float(max_quarantined_fraction),
        }
    )
    packed = any_pb2.Any()
    packed.Pack(settings)
    return example_gen_pb2.CustomConfig(custom_config=packed)


def _settings(exec_properties: dict[str, Any]) -> dict[str, Any]:
    custom_config = example_gen_pb2.CustomConfig()
    proto_utils.json_to_proto(
        exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "{}", custom_config
    )
    settings = struct_pb2.Struct()
    if not custom_config.custom_config.Unpack(settings):
        raise ValueError(
            "The ingestion ExampleGen needs its settings as custom_config: build it with "
            "ingestion_custom_config(spec, schema, max_quarantined_fraction)."
        )
    return json.loads(json_format.MessageToJson(settings))


def _runner(beam_pipeline_args: list[str]) -> str:
    runner = ""
    for arg in beam_pipeline_args or ():
        if arg.startswith("--runner="):
            runner = arg.split("=", 1)[1]
    return "local" if runner in _LOCAL_RUNNERS else "beam"


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
    """Writes the Examples splits with `components.ingestion.ingest`."""

    def GetInputSourceToExamplePTransform(self):  # noqa: N802 - TFX's name
        # Do() below writes the splits itself; Beam's per-record path is not used.
        raise NotImplementedError("The ingestion ExampleGen writes its splits in Do().")

    def Do(self, input_dict, output_dict, exec_properties):  # noqa: N802 - TFX's name
        """Ingests the resolved input files into the Examples artifact.

        Raises:
          IngestionError: no readable input, a header without the schema's
            required columns, or more quarantined rows than allowed.
        """
        self._log_startup(input_dict, output_dict, exec_properties)
        settings = _settings(exec_properties)
        input_config = example_gen_pb2.Input()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config
        )
        output_config = example_gen_pb2.Output()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], output_config
        )
        splits = [(split.name, split.hash_buckets) for split in output_config.split_config.splits]
        input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        # The driver substituted the span into the patterns.
        inputs = [f"{input_base.rstrip('/')}/{split.pattern}" for split in input_config.splits]

        examples = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.EXAMPLES_KEY]
        )
        schema = settings[SCHEMA_KEY] or None
        spec = dataset.spec_from_custom_config(json.loads(settings[SPEC_KEY]))
        try:
            config = spec_config(
                spec,
                schema,
                splits=tuple(splits),
                max_quarantined_fraction=settings[MAX_QUARANTINED_FRACTION_KEY],
            )
        except IngestionError:
            raise
        except Exception as error:  # noqa: BLE001 - any unreadable schema is the user's input
            raise IngestionError(unreadable_schema(schema, error)) from error
        result = ingest(
            inputs,
            examples.uri,
            config,
            runner=_runner(self._beam_pipeline_args),
            beam_args=self._beam_pipeline_args,
            overwrite=True,  # TFX made this execution's folder; nothing earlier is in it
        )
        examples.split_names = artifact_utils.encode_split_names([name for name, _ in splits])
        # As CsvExampleGen records it (the file format it leaves unset: GZIP TFRecords).
        examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
        logger.info(
            "Ingested %d rows: %d written, %d quarantined (%.0f rows/s).",
            result.rows_in,
            result.rows_written,
            result.rows_quarantined,
            result.rows_per_second,
        )


__all__ = ["Executor", "IngestionError", "ingestion_custom_config"]
