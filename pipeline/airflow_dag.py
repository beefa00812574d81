"""What a DAG file written by `deepline compile --target airflow` calls when Airflow imports it.

As `pipeline.cli` is the entry point of the command line, this is the entry point of DAG files:
their baked `deepline compile` command line becomes the run configuration, through the same
parser and the same builder (`config_builder.config_from_args`), then the DAG
(`pipeline.runners.airflow.build_dag`). Imports flow one way: airflow_dag -> arguments,
config_builder, runners.airflow.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline import config_builder
from pipeline.arguments import build_parser
from pipeline.runners import airflow


def dag_from_argv(argv: Sequence[str], dag_file: str = "the DAG file"):
    """The Airflow DAG a DAG file describes.

    Args:
      argv: The file's `deepline compile --target airflow` command line.
      dag_file: The file, for messages.

    Returns:
      An `airflow.models.DAG`, id the pipeline name, one task per component.

    Raises:
      ValueError: the options are not valid (any more): e.g. the spec moved, or Deepline
        changed its options; the message names the file and says to compile it again.
    """
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit:  # argparse printed why; SystemExit would stop Airflow's parser
        raise ValueError(
            f"{dag_file}: its deepline options are not valid (see the error above); compile "
            "it again with `deepline compile --target airflow`."
        ) from None
    try:
        config = config_builder.config_from_args(args)
        settings = airflow.settings_from_args(args)
    except ValueError as error:
        raise ValueError(f"{dag_file}: {error}; compile it again if the options changed.") from None
    return airflow.build_dag(config, settings)
