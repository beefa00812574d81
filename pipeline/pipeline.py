"""`create_pipeline(config)`: the component graph, and nothing else.

raw CSV -> ExampleGen (GZIP TFRecords, train/eval/test) -> StatisticsGen ->
ExampleValidator against the curated schema (or, for a data set without one,
the schema SchemaGen infers from the data) -> DataValidationGate (stops the
run on any anomaly) -> Transform -> (Tuner, when asked) -> Trainer -> Evaluator (on `test`, against
the latest blessed model) -> Pusher (only a blessed model, published with an atomic rename).
"""

from __future__ import annotations

import json

from google.protobuf import json_format
from tfx import v1 as tfx
from tfx.components import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec
from tfx.extensions.google_cloud_ai_platform import constants as vertex_constants
from tfx.extensions.google_cloud_ai_platform.trainer import executor as vertex_trainer
from tfx.extensions.google_cloud_ai_platform.tuner import executor as vertex_tuner
from tfx.proto import example_gen_pb2, range_config_pb2

from components import dataset
from components.atomic_pusher import AtomicPusher
from components.evaluation import make_eval_config
from components.ingestion import example_gen as ingestion_example_gen
from components.validation_gate import DataValidationGate
from pipeline import contracts
from pipeline.config import PipelineConfig

PREPROCESSING_FN = "components.transform.preprocessing_fn"
RUN_FN = "components.trainer.run.run_fn"
TUNER_FN = "components.trainer.tuning.tuner_fn"

# Runtime parameters of a compiled (Vertex / Kubeflow) pipeline: what a
# deployed run may change without compiling again. Each holds the JSON of the
# component parameter it sets; `runtime_parameter_values` writes them.
SPAN_RANGE_PARAMETER = "span_range"  # ExampleGen's RangeConfig; "" ingests the newest span
TRAINER_CONFIG_PARAMETER = "trainer_config"  # hyperparameters (training length included)
EVAL_CONFIG_PARAMETER = "eval_config"  # blessing thresholds, slices


def _span_range(config: PipelineConfig) -> range_config_pb2.RangeConfig | None:
    if not config.uses_spans or config.span is None:
        return None  # the newest span
    return range_config_pb2.RangeConfig(
        static_range=range_config_pb2.StaticRange(
            start_span_number=config.span, end_span_number=config.span
        )
    )


def _trainer_config(config: PipelineConfig) -> dict:
    trainer_config = {
        contracts.HPARAMS_KEY: config.hparams.to_dict(),
        contracts.CODE_FINGERPRINT_KEY: config.code_fingerprint,
        **dataset.to_custom_config(config.dataset),
    }
    if config.cloud_training:
        trainer_config.update(
            {
                vertex_constants.ENABLE_VERTEX_KEY: True,
                vertex_constants.VERTEX_REGION_KEY: config.cloud_training.region,
                vertex_trainer.TRAINING_ARGS_KEY: config.cloud_training.job_config(),
            }
        )
    return trainer_config


def runtime_parameter_values(config: PipelineConfig) -> dict[str, str]:
    """The runtime parameter values that make a compiled pipeline run `config`.

    Compiling with `runtime_parameters=True` writes these as the defaults; a
    deployed run may be given others (e.g. a span, more epochs, a stricter AUC).
    """
    values = {
        TRAINER_CONFIG_PARAMETER: json.dumps(_trainer_config(config), sort_keys=True),
        EVAL_CONFIG_PARAMETER: json_format.MessageToJson(
            make_eval_config(config.dataset, config.thresholds),
            sort_keys=True,
            indent=None,
        ),
    }
    if config.uses_spans:
        span_range = _span_range(config)
        values[SPAN_RANGE_PARAMETER] = (
            json_format.MessageToJson(span_range, indent=None) if span_range else ""
        )
    return values


def create_pipeline(
    config: PipelineConfig,
    metadata_connection_config=None,
    *,
    runtime_parameters: bool = False,
) -> tfx.dsl.Pipeline:
    """Returns the Deepline pipeline for `config`.

    Reads no file: the data set spec, the code fingerprint and every path come in `config`.

    Args:
      config: The run configuration, with absolute paths.
      metadata_connection_config: ML Metadata connection; None lets the
        orchestrator provide one (as Vertex / Kubeflow do).
      runtime_parameters: Make the span, the Trainer's hyperparameters and the
        Evaluator's thresholds runtime parameters (defaulting to `config`'s
        values), for a pipeline compiled once and run many times. Defaults to False.
    """
    spec = config.dataset
    split = config.split
    parameters = {}
    if runtime_parameters:
        parameters = {
            name: tfx.dsl.experimental.RuntimeParameter(name=name, ptype=str, default=value)
            for name, value in runtime_parameter_values(config).items()
        }

    range_config = parameters.get(SPAN_RANGE_PARAMETER, _span_range(config))
    # TFX's file-based ExampleGen (span resolution, input fingerprints) with our
    # ingestion as its executor: bad rows are quarantined and counted, not fatal.
    example_gen = FileBasedExampleGen(
        input_base=config.data_root,
        custom_executor_spec=executor_spec.BeamExecutorSpec(ingestion_example_gen.Executor),
        custom_config=ingestion_example_gen.ingestion_custom_config(
            spec, config.schema, config.max_quarantined_fraction
        ),
        range_config=range_config,  # None: the newest span
        input_config=example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name="single_split", pattern=config.data_pattern)]
        ),
        output_config=example_gen_pb2.Output(
            split_config=example_gen_pb2.SplitConfig(
                splits=[
                    example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=split.train),
                    example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=split.eval),
                    example_gen_pb2.SplitConfig.Split(name="test", hash_buckets=split.test),
                ]
            )
        ),
    ).with_id("CsvExampleGen")
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    if config.schema:
        schema_gen = tfx.components.ImportSchemaGen(schema_file=config.schema)
    else:
        # No curated schema: infer one from this run's data. Each run's data is
        # then checked against its own statistics (types, domains), which
        # catches less than a curated schema; `deepline` says so in the summary.
        schema_gen = tfx.components.SchemaGen(
            statistics=statistics_gen.outputs["statistics"], infer_feature_shape=False
        )
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"],
        schema=schema_gen.outputs["schema"],
    )
    validation_gate = DataValidationGate(
        anomalies=example_validator.outputs["anomalies"], schema_path=config.schema or ""
    )

    # Over spans, Transform (and so the Trainer) sees the latest `span_window`
    # spans, and the analyzer cache lets it skip re-analysing the spans it has
    # seen before. A fixed data set gets neither: a previous run's cache would
    # be a new input every run and turn an unchanged re-run into a cache miss.
    window = example_gen.outputs["examples"]
    span_window = None
    if config.uses_spans and config.span_window > 1:
        # A channel naming the producer (not this run's output) sees every
        # run's spans; the resolver runs after ExampleGen, so this run's is in.
        span_window = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.SpanRangeStrategy,
            config={
                "range_config": range_config_pb2.RangeConfig(
                    rolling_range=range_config_pb2.RollingRange(num_spans=config.span_window)
                )
            },
            examples=tfx.dsl.Channel(
                type=tfx.types.standard_artifacts.Examples,
                producer_component_id=example_gen.id,
                output_key="examples",
            ),
        ).with_id("span_window_resolver")
        span_window.add_upstream_node(example_gen)
        window = span_window.outputs["examples"]
    analyzer_cache = None
    if config.uses_spans:
        analyzer_cache = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestArtifactStrategy,
            cache=tfx.dsl.Channel(type=tfx.types.standard_artifacts.TransformCache),
        ).with_id("latest_transform_cache_resolver")
    transform = tfx.components.Transform(
        examples=window,
        analyzer_cache=analyzer_cache.outputs["cache"] if analyzer_cache else None,
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        splits_config=tfx.proto.SplitsConfig(analyze=["train"], transform=["train", "eval"]),
        # Pre/post-transform statistics would double Transform's time; the raw
        # data is already validated, and the transformed data is a function of it.
        disable_statistics=True,
        # The spec says what to do with each column; the code fingerprint is part
        # of the cache key, so changed module code re-runs Transform.
        custom_config={
            contracts.CODE_FINGERPRINT_KEY: config.code_fingerprint,
            **dataset.to_custom_config(spec),
        },
    )
    transform.add_upstream_node(validation_gate)

    baseline_model = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")

    tuner = None
    if config.tuner_trials > 0:
        tuner_config = {
            contracts.HPARAMS_KEY: config.hparams.to_dict(),
            contracts.MAX_TRIALS_KEY: config.tuner_trials,
            contracts.EPOCHS_PER_TRIAL_KEY: config.tuner_epochs,
            contracts.CODE_FINGERPRINT_KEY: config.code_fingerprint,
            **dataset.to_custom_config(spec),
        }
        tuner_class = tfx.components.Tuner
        if config.cloud_training:
            tuner_class = tfx.extensions.google_cloud_ai_platform.Tuner
            tuner_config.update(
                {
                    vertex_constants.ENABLE_VERTEX_KEY: True,
                    vertex_constants.VERTEX_REGION_KEY: config.cloud_training.region,
                    vertex_tuner.TUNING_ARGS_KEY: config.cloud_training.job_config(),
                }
            )
        tuner = tuner_class(
            tuner_fn=TUNER_FN,
            examples=transform.outputs["transformed_examples"],
            transform_graph=transform.outputs["transform_graph"],
            train_args=tfx.proto.TrainArgs(splits=["train"]),
            eval_args=tfx.proto.EvalArgs(splits=["eval"]),
            custom_config=tuner_config,
        )

    # On Vertex the Trainer may run as a custom job on a machine of its own
    # (GPUs); its step then submits the job and waits.
    trainer_class = (
        tfx.extensions.google_cloud_ai_platform.Trainer
        if config.cloud_training
        else tfx.components.Trainer
    )
    trainer = trainer_class(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        # Training length is decided by early stopping inside run_fn.
        train_args=tfx.proto.TrainArgs(splits=["train"]),
        eval_args=tfx.proto.EvalArgs(splits=["eval"]),
        # Runs over new spans continue from the live model. A fixed data set does
        # not: there a re-run with unchanged inputs is a cache hit, not a retrain.
        base_model=baseline_model.outputs["model"] if config.uses_spans else None,
        hyperparameters=tuner.outputs["best_hyperparameters"] if tuner else None,
        custom_config=parameters.get(TRAINER_CONFIG_PARAMETER, _trainer_config(config)),
    )

    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        example_splits=["test"],
        model=trainer.outputs["model"],
        baseline_model=baseline_model.outputs["model"],
        eval_config=parameters.get(
            EVAL_CONFIG_PARAMETER, make_eval_config(spec, config.thresholds)
        ),
    )

    pusher = AtomicPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=config.serving_dir)
        ),
    ).with_id("Pusher")

    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=[node for node in (span_window, analyzer_cache) if node is not None]
        + [
            example_gen,
            statistics_gen,
            schema_gen,
            example_validator,
            validation_gate,
            transform,
            *([tuner] if tuner else []),
            trainer,
            baseline_model,
            evaluator,
            pusher,
        ],
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(config.beam_args),
    )
