"""TFX Tuner entry point: `tuner_fn` searches the preset's key hyperparameters with KerasTuner.

The search space is the network's depth and width, the (peak) learning rate,
dropout and AdamW's weight decay (`search_space`). Each trial is the Trainer's
model and compile step (`model.build_model`, `prepare.compile_model`) trained for a few
epochs on Transform's output; the trial with the best eval AUC wins. The Tuner
writes its hyperparameters (a `keras_tuner.HyperParameters.get_config()` dict)
to its `best_hyperparameters` artifact, and the Trainer turns them back into
`HParams` with `best_hparams`.

Trials run in `keras_tuner_compat.TfKerasRandomSearch`: KerasTuner's own trial
loop assumes Keras 3 models when Keras 3 is installed, and ours are tf_keras.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import keras_tuner
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx.v1.components import TunerFnResult

from components import dataset
from components.trainer import callbacks as training_callbacks
from components.trainer import distribution, model, optimization, prepare
from components.trainer.heads import BINARY_HEAD, Head
from components.trainer.hparams import HParams
from components.trainer.keras_tuner_compat import TfKerasRandomSearch
from pipeline.contracts import EPOCHS_PER_TRIAL_KEY, HPARAMS_KEY, MAX_TRIALS_KEY

logger = logging.getLogger(__name__)

# Names of the searched hyperparameters, as the Tuner's artifact records them.
DEPTH = "depth"
WIDTH = "width"
MAX_LEARNING_RATE = "max_learning_rate"
DROPOUT = "dropout"
WEIGHT_DECAY = "weight_decay"
SEARCHED = (DEPTH, WIDTH, MAX_LEARNING_RATE, DROPOUT, WEIGHT_DECAY)

DEPTH_RANGE = (2, 5)
WIDTH_CHOICES = (64, 128, 256)
MAX_LEARNING_RATE_RANGE = (1e-4, 1e-2)
DROPOUT_RANGE = (0.0, 0.3)
WEIGHT_DECAY_RANGE = (1e-6, 1e-3)
# With MC dropout every served sample would be identical at dropout 0, and
# `HParams` refuses that combination, so the search starts above it.
MC_DROPOUT_MIN_DROPOUT = 0.05

DEFAULT_MAX_TRIALS = 6
DEFAULT_EPOCHS_PER_TRIAL = 5
# A trial stops after this many epochs without a better objective.
TRIAL_EARLY_STOPPING_PATIENCE = 2


def objective(head: Head) -> keras_tuner.Objective:
    """The trial score: the head's quality metric on the eval split (AUC, accuracy or RMSE)."""
    return keras_tuner.Objective(
        f"val_{head.quality_metric}", direction="max" if head.higher_is_better else "min"
    )


PROJECT_NAME = "deepline"


def _clip(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def _rate_field(resolved: HParams) -> str:
    """The HParams field the searched rate sets: 1cycle's peak, or the initial rate."""
    return "one_cycle_max_rate" if resolved.lr_schedule == "one_cycle" else "learning_rate"


def search_space(base: HParams) -> keras_tuner.HyperParameters:
    """Returns the hyperparameters searched around `base`, with `base`'s values as defaults.

    Weight decay is searched only when the optimizer is AdamW (the only one
    that uses it); dropout starts at `MC_DROPOUT_MIN_DROPOUT` when the served
    model has an MC dropout signature.

    Args:
      base: The Trainer's hyperparameters (resolved or not); the fields not
        searched keep their values in every trial.

    Returns:
      depth (int, `DEPTH_RANGE`), width (one of `WIDTH_CHOICES`),
      max_learning_rate (log-uniform, `MAX_LEARNING_RATE_RANGE`), dropout
      (uniform, `DROPOUT_RANGE`) and weight_decay (log-uniform, `WEIGHT_DECAY_RANGE`).
    """
    resolved = base.resolve()
    hp = keras_tuner.HyperParameters()
    hp.Int(
        DEPTH,
        *DEPTH_RANGE,
        default=int(_clip(len(base.hidden_units), DEPTH_RANGE)),
    )
    first_width = base.hidden_units[0]
    hp.Choice(
        WIDTH,
        list(WIDTH_CHOICES),
        default=min(WIDTH_CHOICES, key=lambda w: abs(w - first_width)),
    )
    rate = getattr(resolved, _rate_field(resolved)) or resolved.learning_rate
    hp.Float(
        MAX_LEARNING_RATE,
        *MAX_LEARNING_RATE_RANGE,
        sampling="log",
        default=_clip(rate, MAX_LEARNING_RATE_RANGE),
    )
    dropout_range = DROPOUT_RANGE
    if resolved.mc_dropout_samples:
        dropout_range = (MC_DROPOUT_MIN_DROPOUT, DROPOUT_RANGE[1])
    hp.Float(DROPOUT, *dropout_range, default=_clip(base.dropout, dropout_range))
    if resolved.optimizer == "adamw":
        hp.Float(
            WEIGHT_DECAY,
            *WEIGHT_DECAY_RANGE,
            sampling="log",
            default=_clip(base.weight_decay, WEIGHT_DECAY_RANGE),
        )
    return hp


def _apply(base: HParams, values: Mapping[str, Any], source: str) -> HParams:
    """`base` with the searched `values` set, resolved."""
    unknown = sorted(set(values) - set(SEARCHED))
    if unknown:
        raise ValueError(
            f"{source} has hyperparameters {unknown} that Deepline does not search (it "
            f"searches {list(SEARCHED)}); re-run the Tuner with this version of tuning.py."
        )
    updates: dict[str, Any] = {}
    if DEPTH in values or WIDTH in values:
        depth = int(values.get(DEPTH, len(base.hidden_units)))
        width = int(values.get(WIDTH, base.hidden_units[0]))
        updates["hidden_units"] = (width,) * depth
    if DROPOUT in values:
        updates["dropout"] = float(values[DROPOUT])
    if WEIGHT_DECAY in values:
        updates["weight_decay"] = float(values[WEIGHT_DECAY])
    # Resolved after the depth is set: with preset "auto", depth picks the preset.
    resolved = dataclasses.replace(base, **updates).resolve()
    if MAX_LEARNING_RATE in values:
        rate = float(values[MAX_LEARNING_RATE])
        resolved = dataclasses.replace(resolved, **{_rate_field(resolved): rate})
    return resolved


def hparams_from_trial(base: HParams, hp: keras_tuner.HyperParameters) -> HParams:
    """Returns the resolved HParams of one trial: `base` with the trial's values.

    hidden_units becomes (width,) * depth; the rate becomes `one_cycle_max_rate`
    under the 1cycle schedule and `learning_rate` otherwise. A searched name
    missing from `hp` keeps `base`'s value.

    Args:
      base: The Trainer's hyperparameters; with preset "auto" the trial's
        depth picks the preset (4 or more layers: "deep").
      hp: The trial's hyperparameters (from `search_space`).

    Raises:
      ValueError: `hp` has a name `search_space` does not define.
    """
    return _apply(base, hp.values, "The trial")


def best_hparams(base: HParams, best: Mapping[str, Any]) -> HParams:
    """Returns the resolved HParams the Tuner found best, for the Trainer.

    Args:
      base: The Trainer's hyperparameters (`custom_config["hparams"]`).
      best: The Tuner's `best_hyperparameters` artifact as the Trainer's
        `fn_args.hyperparameters` holds it: a
        `keras_tuner.HyperParameters.get_config()` dict.

    Raises:
      ValueError: `best` has a hyperparameter this module does not search.
    """
    values = keras_tuner.HyperParameters.from_config(dict(best)).values
    return _apply(base, values, "The Tuner's best_hyperparameters artifact")


class DeeplineHyperModel(keras_tuner.HyperModel):
    """Builds, compiles and fits the Trainer's model for one trial's hyperparameters.

    Trials always train with Keras' `fit`, whatever `training_loop` says (the
    custom loop trains to the same result), and neither warm-start from a
    base model nor run the learning-rate finder (the rate is what is searched).

    Args:
      features: The transformed features, from the data set spec.
      cardinalities: Number of ids of each categorical feature.
      base: The Trainer's hyperparameters, the fields not searched included.
      steps_per_epoch: Training steps in one epoch (per-step schedules are
        planned in steps).
      epochs: The trial's epoch budget; per-step schedules (1cycle, decays)
        are planned over it, so that a trial sees a whole schedule.
      strategy: The distribution strategy the model is built and compiled in.
      head: The output layer, loss and metrics. Defaults to binary.
    """

    def __init__(
        self, features, cardinalities, base, steps_per_epoch, epochs, strategy, head=BINARY_HEAD
    ):
        super().__init__(name=PROJECT_NAME)
        self.head = head
        self.features = features
        self.cardinalities = cardinalities
        self.base = base
        self.steps_per_epoch = steps_per_epoch
        self.epochs = epochs
        self.strategy = strategy

    def trial_hparams(self, hp: keras_tuner.HyperParameters) -> HParams:
        """The trial's HParams, with per-step schedules fitted into the trial's epochs."""
        return dataclasses.replace(hparams_from_trial(self.base, hp), scheduled_epochs=self.epochs)

    def build(self, hp):
        hparams = self.trial_hparams(hp)
        with self.strategy.scope():
            dnn = model.build_model(self.features, self.cardinalities, hparams, self.head)
        model.skip_autograph(dnn)
        rate = optimization.make_learning_rate(hparams, self.steps_per_epoch)
        prepare.compile_model(dnn, hparams, rate, self.strategy, self.head)
        return dnn

    def fit(self, hp, dnn, x, *, callbacks=(), **fit_kwargs):
        """Trains `dnn` like `run_fn` does; returns the tf_keras History.

        Args:
          x: The training dataset (the input standardization is set from it).
          callbacks: tf_keras callbacks of the trial (early stopping, checkpoint).
          fit_kwargs: The rest of `model.fit`'s arguments.
        """
        hparams = self.trial_hparams(hp)
        logger.info(
            "Trial: hidden_units %s, %s %.3g, dropout %.3f, weight_decay %.3g (preset %s).",
            hparams.hidden_units,
            _rate_field(hparams),
            getattr(hparams, _rate_field(hparams)),
            hparams.dropout,
            hparams.weight_decay,
            hparams.preset,
        )
        prepare.adapt_to_training_data(dnn, x, hparams)
        # The Trainer's learning-rate callbacks (1cycle momentum, cuts on plateau,
        # epoch log lines); its early stopping is left out: its patience is
        # longer than a trial, which stops on the trial's own.
        schedule = [
            c
            for c in optimization.make_callbacks(hparams, self.steps_per_epoch)
            if not isinstance(c, keras.callbacks.EarlyStopping | training_callbacks.StepRecorder)
        ]
        return dnn.fit(x, callbacks=[*schedule, *callbacks], **fit_kwargs)


def make_tuner(
    train_ds: tf.data.Dataset,
    eval_ds: tf.data.Dataset,
    features: tuple[dataset.TransformedFeature, ...],
    cardinalities: dict[str, int],
    base: HParams,
    working_dir: str,
    max_trials: int = DEFAULT_MAX_TRIALS,
    epochs_per_trial: int = DEFAULT_EPOCHS_PER_TRIAL,
    strategy: tf.distribute.Strategy | None = None,
    head: Head = BINARY_HEAD,
) -> TunerFnResult:
    """Returns the tuner and the `search` arguments TFX's Tuner runs it with.

    Args:
      train_ds: Batches of (features, label) to train each trial on.
      eval_ds: Batches the objective (`objective(head)`) is measured on.
      features: The transformed features, from the data set spec.
      cardinalities: Number of ids of each categorical feature.
      base: The Trainer's hyperparameters; `search_space(base)` is searched.
      working_dir: Where the tuner keeps its trials (project `PROJECT_NAME`).
      max_trials: Trials to run. Defaults to `DEFAULT_MAX_TRIALS`.
      epochs_per_trial: Epoch budget of each trial. Defaults to `DEFAULT_EPOCHS_PER_TRIAL`.
      strategy: Distribution strategy; None for the default (this process's
        CPU or GPU). Defaults to None.
      head: The output layer, loss and metrics. Defaults to binary.

    Raises:
      ValueError: max_trials or epochs_per_trial is below 1.
    """
    for key, value in ((MAX_TRIALS_KEY, max_trials), (EPOCHS_PER_TRIAL_KEY, epochs_per_trial)):
        if value < 1:
            raise ValueError(f"The Tuner's custom_config[{key!r}] must be >= 1, got {value}.")
    strategy = strategy or tf.distribute.get_strategy()
    # Per-step schedules are planned in steps; this pass also fills the input cache.
    steps_per_epoch = int(train_ds.reduce(0, lambda n, _: n + 1))
    hypermodel = DeeplineHyperModel(
        features, cardinalities, base, steps_per_epoch, epochs_per_trial, strategy, head
    )
    score = objective(head)
    tuner = TfKerasRandomSearch(
        hypermodel,
        objective=score,
        max_trials=max_trials,
        seed=base.seed,
        hyperparameters=search_space(base),
        # The space is exactly `search_space`: the hypermodel only reads values.
        tune_new_entries=False,
        allow_new_entries=False,
        directory=working_dir,
        project_name=PROJECT_NAME,
    )
    early_stopping = keras.callbacks.EarlyStopping(
        monitor=score.name, mode=score.direction, patience=TRIAL_EARLY_STOPPING_PATIENCE
    )
    fit_kwargs = {
        "x": train_ds,
        "validation_data": eval_ds,
        "epochs": epochs_per_trial,
        "callbacks": [early_stopping],
        "verbose": 0,
    }
    return TunerFnResult(tuner=tuner, fit_kwargs=fit_kwargs)


def tuner_fn(fn_args) -> TunerFnResult:
    """Builds the tuner over Transform's output, with the Trainer's input pipeline.

    Args:
      fn_args: TFX `FnArgs` of the Tuner. `custom_config` holds "hparams"
        (`HParams.to_dict()`, as for the Trainer), and optionally "max_trials"
        (defaults to `DEFAULT_MAX_TRIALS`) and "epochs_per_trial" (defaults
        to `DEFAULT_EPOCHS_PER_TRIAL`).

    Raises:
      ValueError: the Tuner was given no transform graph, or a bad custom_config.
    """
    prepare.check_keras_mode()
    if not fn_args.transform_graph_path:
        raise ValueError(
            "The Tuner needs Transform's graph (vocabulary sizes, transformed feature spec): "
            "pass transform_graph=transform.outputs['transform_graph'] and "
            "examples=transform.outputs['transformed_examples']."
        )
    config = fn_args.custom_config or {}
    base = HParams.from_dict(config.get(HPARAMS_KEY, {}))
    spec = dataset.spec_from_custom_config(config)
    keras.utils.set_random_seed(base.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    features = spec.transformed_features()
    strategy = distribution.choose_strategy()
    train_ds, eval_ds = prepare.make_datasets(
        fn_args.train_files,
        fn_args.eval_files,
        tf_transform_output,
        spec,
        base,
        base.resolve().batch_size * strategy.num_replicas_in_sync,
    )
    return make_tuner(
        train_ds,
        eval_ds,
        features,
        prepare.categorical_cardinalities(features, tf_transform_output),
        base,
        fn_args.working_dir,
        max_trials=int(config.get(MAX_TRIALS_KEY, DEFAULT_MAX_TRIALS)),
        epochs_per_trial=int(config.get(EPOCHS_PER_TRIAL_KEY, DEFAULT_EPOCHS_PER_TRIAL)),
        strategy=strategy,
        head=Head.for_spec(spec),
    )
