"""The `deepline` command: parse the arguments, dispatch to a command, map errors to exit codes.

    deepline run [--data PATH] [--output DIR] [...]   run the whole pipeline locally
    deepline schedule --every S | --cron EXPR [...]   run it again and again, never overlapping
    deepline compile | deploy --target vertex [...]   KFP v2 definition; submit / schedule on Vertex
    deepline compile --target airflow [...]           an Airflow DAG file, one task per component
    deepline report [RUN]                             write RUN's HTML report again
    deepline tensorboard [RUN]                        TensorBoard on RUN's training logs

The options are declared in `pipeline.arguments`; the commands live in
`pipeline.commands`, and build the run configuration with
`pipeline.config_builder.config_from_args`. Imports flow one way:
cli -> arguments, commands -> config_builder -> config.
Exit codes (`pipeline.exit_codes`): 0 the model was pushed (or the command
succeeded); 4 the run completed but the model was not blessed (the live model is
untouched); 3 data validation stopped the run; 2 usage or input-file error;
5 another run holds the output folder; 130 interrupted (Ctrl-C); 1 anything else.
"""

from __future__ import annotations

import logging
import sys
import warnings

from pipeline import commands, orchestrator_commands, runtime
from pipeline.arguments import VERSION, build_parser  # noqa: F401 - VERSION: `cli.VERSION`
from pipeline.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE

# What to do after Ctrl-C, one line per command: a run resumes from TFX's cache (a finished
# component is not run again); an interrupted ingestion leaves partial output behind.
RESUME_HINT = "run the same command again to resume from the last finished component"
INTERRUPTED = {
    "ingest": "run the same command again with --overwrite to replace the partial output",
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `deepline` console script; returns the exit code."""
    runtime.configure_environment()
    # Import-time notices of third-party packages (Python version support,
    # deprecations) are not the user's concern.
    for category in (FutureWarning, DeprecationWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(?!pipeline|components)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # `schedule` hands its run options on to each run verbatim
    command = {
        "run": commands.run,
        "schedule": commands.schedule,
        "compile": orchestrator_commands.compile_pipeline,
        "deploy": orchestrator_commands.deploy,
        "ingest": commands.ingest,
        "init-spec": commands.init_spec,
        "report": commands.report,
        "tensorboard": commands.tensorboard,
    }[args.command]
    try:
        return command(args)
    except KeyboardInterrupt:
        # Ctrl-C is the user's request, not a bug: one line, no traceback.
        hint = INTERRUPTED.get(args.command, RESUME_HINT)
        print(f"deepline: interrupted; {hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except commands.UsageError as error:
        print(f"deepline: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # noqa: BLE001 - one readable paragraph, traceback on request
        if args.debug:
            logging.getLogger(__name__).exception("deepline %s failed", args.command)
        print(
            f"deepline {args.command} failed: {type(error).__name__}: {error}\n"
            "Run again with --debug for the traceback.",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
