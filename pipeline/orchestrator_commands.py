"""The commands that hand the pipeline to an orchestrator: `compile` (a Vertex AI / Kubeflow
pipeline definition, or an Airflow DAG file) and `deploy` (submit to Vertex AI Pipelines).

Each builds its configuration as `run` does (`commands.config_or_usage_error`), then hands
it to its runner (`pipeline.runners.vertex`, `pipeline.runners.airflow`).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys

from pipeline import config_builder
from pipeline.commands import UsageError, config_or_usage_error
from pipeline.exit_codes import EXIT_FAILED, EXIT_PUSHED


def _vertex_target(args: argparse.Namespace):
    """Where `compile` / `deploy` put the pipeline: project, region, image, service account."""
    from pipeline.runners import vertex

    return vertex.VertexTarget(
        project=args.project,
        region=args.region,
        image=args.image,
        pipeline_root=None,
        service_account=args.service_account,
    )


def compile_pipeline(args: argparse.Namespace) -> int:
    """`deepline compile`: a KFP v2 pipeline definition (JSON), or an Airflow DAG file."""
    if args.target == config_builder.AIRFLOW_TARGET:
        return _compile_airflow_dag(args)
    from pipeline.runners import vertex

    if args.schedule:
        raise UsageError(
            "compile --target vertex writes a pipeline definition; schedule it with "
            f"`deepline deploy --target vertex --schedule {args.schedule!r}`."
        )
    config, target = config_or_usage_error(args), _vertex_target(args)
    try:
        path = vertex.compile_pipeline(config, target, args.output or "deepline_pipeline.json")
    except vertex.DeploymentError as error:
        raise UsageError(str(error)) from None
    if not args.quiet:
        print(path)
    return EXIT_PUSHED


def _compile_airflow_dag(args: argparse.Namespace) -> int:
    """`deepline compile --target airflow`: a DAG file whose runs are this command's options.

    The file keeps the command line (paths absolute, start date fixed) and builds its
    configuration from it at parse time, as this command does now, to refuse errors here.
    """
    from pipeline.arguments import build_parser
    from pipeline.runners import airflow

    argv = airflow.dag_argv(args.argv, datetime.datetime.now(datetime.timezone.utc).date())
    baked = build_parser().parse_args(argv)
    config = config_or_usage_error(baked)
    try:
        settings = airflow.settings_from_args(baked)
        path = airflow.write_dag_file(
            argv, config, args.output or airflow.default_dag_file(config.pipeline_name)
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not args.quiet:
        print(path)
        print(
            f"DAG {config.pipeline_name!r}: {settings.schedule or 'runs when triggered'}; runs "
            f"write to {config.output_dir}. Airflow needs {airflow.DAG_IMPORT_TIMEOUT_SECONDS} s "
            "to import it: AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT="
            f"{airflow.DAG_IMPORT_TIMEOUT_SECONDS}",
            file=sys.stderr,
        )
    return EXIT_PUSHED


def deploy(args: argparse.Namespace) -> int:
    """`deepline deploy`: submit to Vertex AI Pipelines, once or on a cron schedule."""
    import tempfile

    from pipeline.pipeline import runtime_parameter_values
    from pipeline.runners import vertex

    config, target = config_or_usage_error(args), _vertex_target(args)
    try:
        definition = args.pipeline_spec
        if definition is None:
            definition = os.path.join(tempfile.mkdtemp(prefix="deepline-"), "pipeline.json")
            vertex.compile_pipeline(config, target, definition)
        # The runtime parameters (span, training, thresholds) come from this
        # command's options, also when the definition was compiled earlier.
        parameters = runtime_parameter_values(config)
        if args.schedule:
            name = vertex.schedule(definition, target, args.schedule, parameter_values=parameters)
        else:
            name = vertex.submit(definition, target, parameter_values=parameters)
    except ValueError as error:
        raise UsageError(str(error)) from None
    except vertex.DeploymentError as error:
        print(f"deepline: {error}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        print(name)
    return EXIT_PUSHED
