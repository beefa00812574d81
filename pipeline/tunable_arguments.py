"""The options of what a run trains and blesses with: which spans, the training recipe and
hyperparameters, and the blessing thresholds. `deepline run`, `schedule`, `compile` and `deploy`
share them; on Vertex they are runtime parameters. `pipeline.arguments` builds the command line
with them, and `pipeline.config_builder.tunable_fields` reads them back."""

from __future__ import annotations

import argparse


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one layer width")
    return values


def _hparam(text: str) -> tuple[str, object]:
    import json

    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), json.loads(value)
    except json.JSONDecodeError:
        return name.strip(), value  # a bare word: a string


def tunables_parser() -> argparse.ArgumentParser:
    """Returns the span, training and blessing options, as a parent parser (no `--help`).

    Returns:
      An `argparse.ArgumentParser` to pass in `parents=` of the commands that take them.
    """
    # Defaults come from the config dataclasses, so they are written once.
    from components.blessing import BlessingThresholds
    from components.trainer import families
    from components.trainer import hparams as hparams_lib
    from components.trainer.hparams import HParams
    from pipeline import config as config_lib

    tunables = argparse.ArgumentParser(add_help=False)
    spans = tunables.add_argument_group("spans")
    spans.add_argument(
        "--span",
        type=int,
        default=None,
        help="with span folders (<data>/span-N/*.csv): the span to ingest; none: the newest",
    )
    spans.add_argument(
        "--span-window",
        type=int,
        default=config_lib.PipelineConfig.span_window,
        help="with span folders: Transform and the Trainer use the latest this many spans",
    )
    training = tunables.add_argument_group("training")
    training.add_argument(
        "--model",
        choices=families.MODEL_CHOICES,
        default=config_lib.PipelineConfig.model,
        help="what to train and serve: "
        + "; ".join(f"{name}: {entry.summary}" for name, entry in families.FAMILIES.items())
        + "; ensemble: the average of the deep model and the tree challenger; auto: those "
        "candidates, the best on the eval split served",
    )
    training.add_argument(
        "--preset",
        choices=(hparams_lib.AUTO, *hparams_lib.PRESETS),
        default=HParams.preset,
        help="training recipe; auto: deep for 4+ hidden layers, else shallow",
    )
    training.add_argument(
        "--hidden-units",
        type=_int_tuple,
        default=",".join(map(str, HParams.hidden_units)),
        help="hidden layer widths, comma-separated; 4 or more layers make a deep "
        "net (Swish + batch norm)",
    )
    training.add_argument(
        "--optimizer",
        choices=(hparams_lib.AUTO, *hparams_lib.OPTIMIZERS),
        default=HParams.optimizer,
        help="auto: the preset's (AdamW; Nesterov SGD for self_normalizing)",
    )
    training.add_argument(
        "--lr-schedule",
        choices=(hparams_lib.AUTO, *hparams_lib.LR_SCHEDULES),
        default=HParams.lr_schedule,
        help="plateau: cut on a stalled eval loss; one_cycle: 1cycle, peak from the "
        "learning-rate finder",
    )
    training.add_argument(
        "--learning-rate",
        type=float,
        default=HParams.learning_rate,
        help="initial learning rate (reduced on plateau); default: the preset's, scaled by "
        "the square root of --batch-size over the preset's batch size",
    )
    training.add_argument(
        "--batch-size",
        type=int,
        default=HParams.batch_size,
        help="examples per step; default: the preset's (1024 for shallow, 256 for the others)",
    )
    training.add_argument(
        "--max-epochs",
        type=int,
        default=HParams.max_epochs,
        help="upper bound; early stopping decides the length",
    )
    training.add_argument("--seed", type=int, default=HParams.seed, help="random seed")
    training.add_argument(
        "--tune",
        type=int,
        default=config_lib.PipelineConfig.tuner_trials,
        metavar="TRIALS",
        help="run the Tuner first with this many trials (depth, width, peak learning rate, "
        "dropout, weight decay); the Trainer uses the best; 0: no Tuner",
    )
    training.add_argument(
        "--tune-epochs",
        type=int,
        default=config_lib.PipelineConfig.tuner_epochs,
        help="epochs of each Tuner trial (early-stopped)",
    )
    training.add_argument(
        "--hparam",
        action="append",
        dest="hparams",
        type=_hparam,
        metavar="NAME=VALUE",
        help="any other trainer hyperparameter (see components/trainer/hparams.py), "
        "repeatable; VALUE is JSON, e.g. --hparam l2=1e-4 --hparam training_loop=custom",
    )

    blessing = tunables.add_argument_group("blessing")
    blessing.add_argument(
        "--min-auc",
        type=float,
        default=BlessingThresholds.min_auc,
        help="AUC the candidate must reach on the test split; default: the spec's "
        "evaluation.min_auc, else chance (0.5) beaten by 5%% of its error",
    )
    blessing.add_argument(
        "--min-accuracy",
        type=float,
        default=BlessingThresholds.min_accuracy,
        help="accuracy the candidate must reach on the test split; default: the spec's "
        "evaluation.min_accuracy, else the majority class beaten by 5%% of its error",
    )
    blessing.add_argument(
        "--min-auc-gain",
        type=float,
        default=BlessingThresholds.min_auc_gain,
        help="AUC gain required over the live model (0: no worse than it)",
    )
    return tunables
