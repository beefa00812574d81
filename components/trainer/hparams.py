"""Trainer hyperparameters: every field documented and defaulted here, and nowhere else.

The pipeline passes them to the Trainer as `custom_config["hparams"]` (plain
JSON), and `run_fn` rebuilds them with `HParams.from_dict`, so a run's
hyperparameters are recorded in ML Metadata with the Trainer execution and
are part of its cache key.

Fields left at "auto" (or None where documented) are chosen by the preset
(`presets.PRESETS`), and the preset is chosen by the network: "deep" for
DEEP_NET_MIN_LAYERS hidden layers or more, "shallow" below.

`resolve()` fills every "auto" and checks the combination; any field set
explicitly overrides the preset.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from components.trainer.layer_choices import ACTIVATIONS, INITIALIZERS, initializer_for
from components.trainer.presets import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_LEARNING_RATE,
    PRESET_CHOICES,
    PRESETS,
    check_combination,
)

# A net with this many hidden layers or more is "deep": the "auto" preset
# picks `deep` for it and `shallow` below.
DEEP_NET_MIN_LAYERS = 4
AUTO = "auto"

OPTIMIZERS = (
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "adamax",
    "nadam",
    "adamw",
)
LR_SCHEDULES = ("plateau", "one_cycle", "power", "exponential", "piecewise", "constant")
DROPOUT_KINDS = ("dropout", "alpha_dropout")
TRAINING_LOOPS = ("fit", "custom")
BATCH_NORM_POSITIONS = ("before", "after")

# Fewest steps an epoch over the training rows should have when the batch size is the
# preset's: on a few hundred rows a batch of 1024 is one step per epoch, and early stopping
# (counted in epochs) ends training after a few dozen steps. Below it the batch halves, to
# no less than MIN_BATCH_SIZE (`HParams.for_training_rows`).
MIN_STEPS_PER_EPOCH = 8
MIN_BATCH_SIZE = 32


@dataclasses.dataclass(frozen=True)
class HParams:
    """Hyperparameters of the Keras DNN and its training.

    Attributes:
      preset: One of PRESETS, or "auto": "deep" for 4 or more hidden layers,
        "shallow" below. Defaults to "auto".
      hidden_units: Width of each hidden dense layer, input side first.
        Defaults to (256, 128, 64).
      residual: Hidden layers of equal width are grouped into residual dense
        blocks (x + f(x)). Defaults to False.
      activation: One of `activations.ACTIVATIONS`, or "auto" (the preset's).
        Defaults to "auto".
      leaky_relu_alpha: Negative slope of "leaky_relu" (and the start of
        "prelu"'s learned one). Defaults to 0.2.
      initializer: One of `initializers.INITIALIZERS`, or "auto": the one
        matched to the activation (Glorot, He or LeCun). Defaults to "auto".
      prior_output_bias: Start a classification head's output bias at the
        training labels' base rates (`heads.adapt_prior_bias`), not at 0, so
        the first steps go to the features rather than to the class balance.
        Defaults to True.
      batch_norm: Batch normalization in every hidden layer; None for the
        preset's choice. Defaults to None.
      batch_norm_position: "before" the activation (the dense layer then has
        no bias: BN's shift replaces it) or "after" it. Defaults to "before".
      batch_norm_momentum: Momentum of BN's moving statistics. Defaults to 0.99.
      dropout: Dropout rate after each hidden layer. Defaults to 0.1.
      dropout_kind: "dropout", "alpha_dropout" (keeps SELU's mean and
        variance), or "auto". Monte Carlo dropout is a serving signature
        (`mc_dropout_samples`), so the default prediction stays deterministic.
        Defaults to "auto".
      l1: L1 penalty on hidden kernels. Defaults to 0.0.
      l2: L2 penalty on hidden kernels. Defaults to 0.0.
      max_norm: Upper bound of every hidden neuron's incoming weight norm,
        enforced after each step; None for no bound. Defaults to None.
      embedding_dim: Embedding width for a categorical feature with n ids is
        min(embedding_dim, ceil(1.6 * n ** 0.56)), a common rule of thumb.
        Defaults to 16.
      optimizer: One of OPTIMIZERS, or "auto". "momentum" and "nesterov" are
        SGD with `momentum`. Defaults to "auto".
      momentum: Momentum of the SGD family, and Adam's beta_1 upper value
        under 1cycle. Defaults to 0.9.
      learning_rate: Initial learning rate (the top of 1cycle is
        `one_cycle_max_rate`); None for the preset's (8e-3 for shallow, 1e-3
        for the others), scaled by the square root of the batch size over the
        preset's when `batch_size` is set (the scaling rule for adaptive
        optimizers). Defaults to None.
      weight_decay: Decoupled weight decay of AdamW. Defaults to 1e-4.
      clip_norm: Clip each step's gradients to this global norm (keeps their
        direction); None for no clipping. Defaults to None.
      clip_value: Clip each gradient component to [-clip_value, clip_value];
        None for no clipping. Defaults to None.
      lr_schedule: One of LR_SCHEDULES: "plateau" cuts the rate when the eval
        loss stalls; the others change it every step. Defaults to "plateau".
      one_cycle_max_rate: Peak rate of 1cycle; None: found by the learning-rate
        finder. Defaults to None.
      scheduled_epochs: A per-step schedule (all but "plateau") is planned
        over this many epochs, and training lasts that long at most; 1cycle
        always runs to its end (no early stop). Defaults to 12.
      lr_finder: Run the learning-rate finder before training and save its
        curve (always run for 1cycle without a max rate). Defaults to False.
      batch_size: Examples per training step (per replica); None for the
        preset's (1024 for shallow, 256 for the others), halved on small data
        until an epoch has MIN_STEPS_PER_EPOCH steps. Defaults to None.
      max_epochs: Upper bound only; early stopping decides the length.
        Defaults to 200.
      early_stopping_patience: Epochs without eval-loss improvement before
        training stops and the best weights are restored. Defaults to 8.
      early_stopping_min_delta: Smallest eval-loss improvement that counts
        for early stopping, as a fraction of the best eval loss so far
        (`callbacks.MarginEarlyStopping`): training goes on only while the loss
        drops by at least this share within `early_stopping_patience` epochs;
        0 counts any drop. Defaults to 0.01 (1%; the README's
        "Early stopping" says why).
      reduce_lr_patience: Epochs without improvement before the learning rate
        is multiplied by `reduce_lr_factor`. Defaults to 3.
      reduce_lr_factor: Defaults to 0.3.
      min_learning_rate: Floor of the reduced learning rate. Defaults to 1e-5.
      shuffle_buffer: Examples in the shuffle buffer. Defaults to 10_000.
      training_loop: "fit" (Keras) or "custom" (our `tf.function` loop with
        the same result). Defaults to "fit".
      fold_batch_norm: Fold batch norm into the dense layers of the served
        model; None for the preset's choice. Defaults to None.
      tflite_copies: Also write float16 and int8 TFLite copies of the network
        (over transformed features) next to the served model, with their eval
        metrics against the full model's (accuracy, or MAE and RMSE for
        regression); None for the preset's choice (on for low_latency).
        Defaults to None.
      mc_dropout_samples: Dropout samples of the served model's
        "mc_dropout" signature (mean and stddev); 0 for no such signature,
        None for the preset's choice. Defaults to None.
      warm_start_frozen_epochs: When the Trainer is given a base model, the
        epochs its reused layers stay frozen before all layers train. Defaults to 2.
      warm_start_learning_rate_factor: Multiplies the learning rate once the
        reused layers are unfrozen. Defaults to 0.1.
      seed: Seed for weight initialization and shuffling. Defaults to 42.
      periodic_frequencies: Frequencies of a periodic embedding (a numeric feature
        with `embedding: periodic` in the spec; `periodic.PeriodicEmbedding`), in every
        family. Defaults to 16.
      periodic_width: Units of a periodic embedding, per feature. Defaults to 16.
      periodic_sigma: Standard deviation of its initial frequencies. Defaults to 0.1.
      tabm_members: k, the members of the tabm family's ensemble (`families.tabm`).
        Defaults to 32.
      tabm_hidden_units: Width of each of its shared hidden layers. Narrower than TabM's
        (3 x 512): k members cost k times the arithmetic, and on a CPU (64, 64) keeps
        the Trainer on the taxi data within twice the dnn's time (README). Defaults
        to (64, 64).
      tabm_dropout: Dropout after each of its hidden layers. Defaults to 0.1.
      tabm_batch_size: Examples per step of its training (per replica). Defaults to 256.
      tabm_learning_rate: Its AdamW rate, flat, then down a half cosine to 0.
        Defaults to 2e-3.
      tabm_weight_decay: Its AdamW decoupled weight decay. Defaults to 3e-4.
      tabm_label_smoothing: Label smoothing of its classification loss (the training
        loss only: best epochs and metrics are judged on the true labels). Defaults to 0.1.
      tabm_epochs: Epochs its schedule is planned over, and trained at most; raised so
        that they hold `tabm_min_steps` steps on small data. Early stopping
        (`early_stopping_patience`) may end it sooner, on the served prediction's eval
        loss, restoring the best epoch. Defaults to 40.
      tabm_min_steps: Fewest optimizer steps its schedule is planned over. Defaults to 600.
      tabm_flat_fraction: Share of its planned steps at the full rate before the
        cosine decay. Defaults to 0.5.
    """

    preset: str = AUTO
    hidden_units: tuple[int, ...] = (256, 128, 64)
    residual: bool = False
    activation: str = AUTO
    leaky_relu_alpha: float = 0.2
    initializer: str = AUTO
    prior_output_bias: bool = True
    batch_norm: bool | None = None
    batch_norm_position: str = "before"
    batch_norm_momentum: float = 0.99
    dropout: float = 0.1
    dropout_kind: str = AUTO
    l1: float = 0.0
    l2: float = 0.0
    max_norm: float | None = None
    embedding_dim: int = 16
    optimizer: str = AUTO
    momentum: float = 0.9
    learning_rate: float | None = None
    weight_decay: float = 1e-4
    clip_norm: float | None = None
    clip_value: float | None = None
    lr_schedule: str = AUTO
    one_cycle_max_rate: float | None = None
    scheduled_epochs: int = 12
    lr_finder: bool = False
    batch_size: int | None = None
    max_epochs: int = 200
    early_stopping_patience: int = 8
    early_stopping_min_delta: float = 0.01
    reduce_lr_patience: int = 3
    reduce_lr_factor: float = 0.3
    min_learning_rate: float = 1e-5
    shuffle_buffer: int = 10_000
    training_loop: str = "fit"
    fold_batch_norm: bool | None = None
    tflite_copies: bool | None = None
    mc_dropout_samples: int | None = None
    warm_start_frozen_epochs: int = 2
    warm_start_learning_rate_factor: float = 0.1
    seed: int = 42
    periodic_frequencies: int = 16
    periodic_width: int = 16
    periodic_sigma: float = 0.1
    tabm_members: int = 32
    tabm_hidden_units: tuple[int, ...] = (64, 64)
    tabm_dropout: float = 0.1
    tabm_batch_size: int = 256
    tabm_learning_rate: float = 2e-3
    tabm_weight_decay: float = 3e-4
    tabm_label_smoothing: float = 0.1
    tabm_epochs: int = 40
    tabm_min_steps: int = 600
    tabm_flat_fraction: float = 0.5

    def __post_init__(self):
        if not self.hidden_units or any(u <= 0 for u in self.hidden_units):
            raise ValueError(f"hidden_units must be positive widths, got {self.hidden_units}.")
        if not self.tabm_hidden_units or any(u <= 0 for u in self.tabm_hidden_units):
            raise ValueError(
                f"tabm_hidden_units must be positive widths, got {self.tabm_hidden_units}."
            )
        for name in ("dropout", "tabm_dropout", "tabm_label_smoothing"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}.")
        if not 0.0 <= self.tabm_flat_fraction <= 1.0:
            raise ValueError(
                f"tabm_flat_fraction must be in [0, 1], got {self.tabm_flat_fraction}."
            )
        for name in (
            "periodic_frequencies",
            "periodic_width",
            "tabm_members",
            "tabm_batch_size",
            "tabm_epochs",
            "tabm_min_steps",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}.")
        choices = {
            "preset": (AUTO, *PRESETS),
            "activation": (AUTO, *ACTIVATIONS),
            "initializer": (AUTO, *INITIALIZERS),
            "batch_norm_position": BATCH_NORM_POSITIONS,
            "dropout_kind": (AUTO, *DROPOUT_KINDS),
            "optimizer": (AUTO, *OPTIMIZERS),
            "lr_schedule": (AUTO, *LR_SCHEDULES),
            "training_loop": TRAINING_LOOPS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}."
                )
        for name in ("l1", "l2", "weight_decay", "tabm_weight_decay"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}.")
        if not 0.0 <= self.early_stopping_min_delta < 1.0:
            raise ValueError(
                "early_stopping_min_delta is a fraction of the best eval loss, in [0, 1); got "
                f"{self.early_stopping_min_delta}."
            )
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be positive or None, got {self.batch_size}.")
        for name in (
            "max_norm",
            "clip_norm",
            "clip_value",
            "one_cycle_max_rate",
            "learning_rate",
            "tabm_learning_rate",
            "periodic_sigma",
        ):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None, got {value}.")

    @property
    def is_deep(self) -> bool:
        return len(self.hidden_units) >= DEEP_NET_MIN_LAYERS

    @property
    def resolved_preset(self) -> str:
        if self.preset != AUTO:
            return self.preset
        return "deep" if self.is_deep else "shallow"

    @property
    def preset_batch_size(self) -> int:
        """The batch size of the preset (before `batch_size` or the training rows change it)."""
        return PRESET_CHOICES[self.resolved_preset].get("batch_size", DEFAULT_BATCH_SIZE)

    def for_training_rows(self, rows: int) -> HParams:
        """A copy whose batch gives an epoch over `rows` examples at least
        MIN_STEPS_PER_EPOCH steps: the preset's batch halved as often as needed, to no
        less than MIN_BATCH_SIZE. A batch size set explicitly is kept, and so is this
        copy's learning rate rule (`resolve()` scales the preset's rate by the square
        root of the batch ratio).

        Args:
          rows: Training examples per replica.
        """
        if self.batch_size is not None:
            return self
        batch = self.preset_batch_size
        while batch > MIN_BATCH_SIZE and rows < MIN_STEPS_PER_EPOCH * batch:
            batch //= 2
        if batch == self.preset_batch_size:
            return self
        return dataclasses.replace(self, batch_size=batch)

    def resolve(self) -> HParams:
        """Returns a copy with every "auto" / None choice made by the preset.

        Raises:
          ValueError: The choices contradict the preset (a self-normalizing
            net with batch norm, say); the message names the field.
        """
        preset = self.resolved_preset
        choices = PRESET_CHOICES[preset]
        updates: dict[str, Any] = {"preset": preset}
        for name in ("activation", "dropout_kind", "optimizer", "lr_schedule"):
            if getattr(self, name) == AUTO:
                updates[name] = choices[name]
        for name, default in (
            ("batch_norm", False),
            ("fold_batch_norm", False),
            ("tflite_copies", False),
        ):
            if getattr(self, name) is None:
                updates[name] = choices.get(name, default)
        if self.mc_dropout_samples is None:
            updates["mc_dropout_samples"] = choices.get("mc_dropout_samples", 0)
        preset_batch = self.preset_batch_size
        updates["batch_size"] = self.batch_size or preset_batch
        if self.learning_rate is None:
            rate = choices.get("learning_rate", DEFAULT_LEARNING_RATE)
            updates["learning_rate"] = rate * math.sqrt(updates["batch_size"] / preset_batch)
        resolved = dataclasses.replace(self, **updates)
        if resolved.initializer == AUTO:
            resolved = dataclasses.replace(
                resolved, initializer=initializer_for(resolved.activation)
            )
        check_combination(resolved)
        return resolved

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict (tuples become lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> HParams:
        """Builds HParams from `to_dict` output; unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown trainer hyperparameters {unknown}; known: {sorted(known)}.")
        values = dict(values)
        for name in ("hidden_units", "tabm_hidden_units"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)
