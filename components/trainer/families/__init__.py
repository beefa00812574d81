"""The table of model families: what `--model` can name, and what each family honours.

Each family is a module of this package over one shared base (`base.py`): it builds,
trains and returns a Keras model that honours the serving contract, and the Trainer
exports it with the Transform graph. To add a family: write `families/<name>.py` with a
`FAMILY` object (a `base.ModelFamily`), add a row to `FAMILIES`, and a round-trip test.

`--model` names one family, or a way of combining them:
  auto      trains the deep default and the tree challenger, averages them into an
            ensemble candidate too, and keeps the candidate that scores best on the eval
            split (never the test split, which is the Evaluator's).
  ensemble  the average of the deep default's and the tree's predictions.

This module is the table only: it imports no TensorFlow, so the config builder can
refuse a combination by name before anything runs.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
from typing import TYPE_CHECKING

from components.dataset import DatasetSpec
from components.trainer.hparams import HParams

if TYPE_CHECKING:
    from components.trainer.families.base import ModelFamily


class FamilyOption(str, enum.Enum):
    """Trainer options a family may or may not honour, named as the user sets them."""

    FOLD_BATCH_NORM = "fold_batch_norm"
    MC_DROPOUT = "mc_dropout_samples"
    TFLITE = "tflite_copies"
    TUNING = "tuner_trials"
    CUSTOM_LOOP = "training_loop=custom"
    WARM_START = "warm_start"
    # Not a setting but the data: text tokens or image pixels, which only a network reads.
    TEXT_OR_IMAGES = "text or image features"


@dataclasses.dataclass(frozen=True)
class FamilyEntry:
    """One row of the table.

    Attributes:
      name: The `--model` value.
      summary: One line for `--help`, the summary and the report.
      supports: The options it honours.
    """

    name: str
    summary: str
    supports: frozenset[FamilyOption]

    def load(self) -> ModelFamily:
        """The family's implementation (imports TensorFlow and the family's libraries)."""
        return importlib.import_module(f"{__name__}.{self.name}").FAMILY

    def unsupported(self, asked: frozenset[FamilyOption]) -> list[FamilyOption]:
        """The options in `asked` this family cannot honour, in declaration order."""
        return [o for o in FamilyOption if o in asked and o not in self.supports]


FAMILIES: dict[str, FamilyEntry] = {
    entry.name: entry
    for entry in (
        FamilyEntry(
            "dnn",
            "the deep network of the presets (Hands-On ML ch. 11): dense stack, embeddings",
            frozenset(FamilyOption),
        ),
        FamilyEntry(
            "tabm",
            "k MLPs sharing weights, averaged (TabM); AdamW, label smoothing, flat-cosine rate",
            frozenset({FamilyOption.WARM_START, FamilyOption.TEXT_OR_IMAGES}),
        ),
        FamilyEntry(
            "gbdt",
            "gradient-boosted trees (TensorFlow Decision Forests) on the same transformed features",
            # Trees have no dense network to fold, drop out, quantize or tune, are trained
            # by TF-DF rather than a Keras loop, and cannot continue from a previous model;
            # token and pixel positions are not the tabular columns trees split well.
            frozenset(),
        ),
    )
}

AUTO = "auto"
ENSEMBLE = "ensemble"
# The deep family `auto` and `ensemble` train beside the tree challenger.
DEEP_DEFAULT = "dnn"
# The tree challenger `auto` and `ensemble` train beside the deep default.
TREE_CHALLENGER: str | None = "gbdt"
MODEL_CHOICES = (AUTO, *FAMILIES, ENSEMBLE)


def requested_options(
    hparams: HParams, tuning: bool = False, spec: DatasetSpec | None = None
) -> frozenset[FamilyOption]:
    """The options that resolved `hparams` (a Tuner upstream, the data set `spec`) ask of a
    family; a spec with text or image features asks for `TEXT_OR_IMAGES`.

    Warm start is not among them: it is asked by the run (a base model from the previous
    span), not by the user; a family without it trains from scratch and its training
    record says so.
    """
    asked = {
        FamilyOption.FOLD_BATCH_NORM: bool(hparams.fold_batch_norm),
        FamilyOption.MC_DROPOUT: bool(hparams.mc_dropout_samples),
        FamilyOption.TFLITE: bool(hparams.tflite_copies),
        FamilyOption.TUNING: tuning,
        FamilyOption.CUSTOM_LOOP: hparams.training_loop == "custom",
        FamilyOption.TEXT_OR_IMAGES: bool(spec and (spec.text or spec.images)),
    }
    return frozenset(option for option, on in asked.items() if on)


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the Trainer trains for one `--model` choice.

    Attributes:
      choice: The `--model` value.
      families: The families to train, in order.
      ensemble: Also build the average of the families' predictions as a candidate.
      select: Choose among the candidates on the eval split (else the single
        candidate is served).
      left_out: Families `auto` left out, each with the reason in words.
    """

    choice: str
    families: tuple[str, ...]
    ensemble: bool
    select: bool
    left_out: dict[str, str] = dataclasses.field(default_factory=dict)


def plan(
    choice: str, hparams: HParams, tuning: bool = False, spec: DatasetSpec | None = None
) -> Plan:
    """What `--model choice` trains with these (resolved) hyperparameters on data set `spec`.

    `auto` leaves out the families that cannot honour an option the user asked for (and
    says why); an explicit family or `ensemble` that cannot is refused.

    Raises:
      ValueError: an unknown choice, or a family asked for an option it cannot honour;
        the message names both and what to do.
    """
    if choice not in MODEL_CHOICES:
        raise ValueError(f"--model must be one of {', '.join(MODEL_CHOICES)}; got {choice!r}.")
    asked = requested_options(hparams, tuning, spec)
    pair = tuple(name for name in (DEEP_DEFAULT, TREE_CHALLENGER) if name)
    if choice == AUTO:
        left_out = {}
        for name in pair:
            missing = FAMILIES[name].unsupported(asked)
            if missing:
                left_out[name] = f"{name} cannot honour {_names(missing)}"
        kept = tuple(name for name in pair if name not in left_out)
        if not kept:
            raise ValueError(_refusal(choice, left_out, asked))
        return Plan(choice, kept, ensemble=len(kept) > 1, select=len(kept) > 1, left_out=left_out)
    names = pair if choice == ENSEMBLE else (choice,)
    problems = {
        name: f"{name} cannot honour {_names(missing)}"
        for name in names
        if (missing := FAMILIES[name].unsupported(asked))
    }
    if problems:
        raise ValueError(_refusal(choice, problems, asked))
    return Plan(choice, names, ensemble=choice == ENSEMBLE, select=False)


def _names(options: list[FamilyOption]) -> str:
    return ", ".join(option.value for option in options)


def _refusal(choice: str, problems: dict[str, str], asked: frozenset[FamilyOption]) -> str:
    able = [name for name, entry in FAMILIES.items() if not entry.unsupported(asked)]
    return (
        f"--model {choice}: {'; '.join(problems.values())}. Drop those options, or pick a "
        f"model that honours them ({', '.join(able) or 'none does'})."
    )
