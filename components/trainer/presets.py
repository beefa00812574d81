"""The Trainer's presets: what each chooses for the hyperparameters left at "auto"
(Hands-On ML, ch. 11), and the combinations no preset can train.

  shallow           He init, ReLU, no normalization, AdamW, LR cut on plateau.
  deep              He init, Swish, batch norm before the activation, AdamW
                    with weight decay, LR cut on plateau, early stopping.
  self_normalizing  LeCun normal init, SELU, alpha dropout, Nesterov SGD, no
                    batch norm, standardized inputs, a plain dense stack.
  low_latency       Leaky ReLU, batch norm folded into the dense layers at export.
  risk_sensitive    The deep recipe with MC dropout: the served model also has a
                    signature returning the mean and spread of N dropout samples.

`hparams.HParams.resolve()` applies them; the fields are documented there.
"""

from __future__ import annotations

from typing import Any

PRESETS = ("shallow", "deep", "self_normalizing", "low_latency", "risk_sensitive")

# Batch size and learning rate of a preset that names none.
DEFAULT_BATCH_SIZE = 256
DEFAULT_LEARNING_RATE = 1e-3

# What each preset sets for the fields left at "auto" / None.
PRESET_CHOICES: dict[str, dict[str, Any]] = {
    "shallow": {
        "activation": "relu",
        "batch_norm": False,
        "dropout_kind": "dropout",
        "optimizer": "adamw",
        "lr_schedule": "plateau",
        # Four times the usual batch at eight times the usual rate: on the taxi data
        # (benchmarks/trainer_presets.py, with `prior_output_bias`) it reaches eval
        # accuracy 0.89 with AUC 0.94 in 0.17-0.24 of the steps of 256 at 1e-3 (six
        # seeds), and a step of 1024 costs the CPU far less than four steps of 256.
        "batch_size": 1024,
        "learning_rate": 8e-3,
    },
    "deep": {
        "activation": "swish",
        "batch_norm": True,
        "dropout_kind": "dropout",
        "optimizer": "adamw",
        "lr_schedule": "plateau",
    },
    "self_normalizing": {
        "activation": "selu",
        "batch_norm": False,
        "dropout_kind": "alpha_dropout",
        "optimizer": "nesterov",
        "lr_schedule": "plateau",
    },
    "low_latency": {
        "activation": "leaky_relu",
        "batch_norm": True,
        "dropout_kind": "dropout",
        "optimizer": "adamw",
        "lr_schedule": "plateau",
        "fold_batch_norm": True,
        "tflite_copies": True,
    },
    "risk_sensitive": {
        "activation": "swish",
        "batch_norm": True,
        # Trained with ordinary dropout; the export adds the sampling signature.
        "dropout_kind": "dropout",
        "optimizer": "adamw",
        "lr_schedule": "plateau",
        "mc_dropout_samples": 30,
    },
}


def check_combination(hparams) -> None:
    """Refuses resolved hyperparameters whose choices cannot work together.

    Args:
      hparams: A resolved `hparams.HParams` (which imports this module, hence no annotation).

    Raises:
      ValueError: The combination cannot work (batch norm after the activation
        folded, MC dropout without dropout, a self-normalizing net broken by some
        field); the message names the fields and what to change.
    """
    if hparams.fold_batch_norm and hparams.batch_norm and hparams.batch_norm_position == "after":
        raise ValueError(
            "fold_batch_norm needs batch_norm_position='before': batch norm after the "
            "activation cannot be folded into the dense layer before it."
        )
    if hparams.mc_dropout_samples and not hparams.dropout:
        raise ValueError(
            f"mc_dropout_samples={hparams.mc_dropout_samples} needs dropout > 0: without "
            "dropout every sample is the same."
        )
    if hparams.preset != "self_normalizing":
        return
    # SELU keeps each layer's outputs at mean 0 / std 1 only in a plain dense
    # stack of LeCun-initialized layers over standardized inputs (Klambauer
    # et al., 2017); anything that changes the activations' statistics breaks it.
    broken = {
        "activation": (hparams.activation != "selu", "must be 'selu'"),
        "initializer": (hparams.initializer != "lecun_normal", "must be 'lecun_normal'"),
        "batch_norm": (hparams.batch_norm, "must be off"),
        "residual": (hparams.residual, "must be off (skip connections)"),
        "dropout_kind": (
            hparams.dropout and hparams.dropout_kind != "alpha_dropout",
            "must be 'alpha_dropout'",
        ),
        "l1": (hparams.l1 > 0, "must be 0"),
        "l2": (hparams.l2 > 0, "must be 0"),
        "max_norm": (hparams.max_norm is not None, "must be None"),
    }
    problems = [f"{name} {why}" for name, (bad, why) in broken.items() if bad]
    if problems:
        raise ValueError(
            "The self_normalizing preset needs a plain SELU dense stack over standardized "
            f"inputs, but {'; '.join(problems)}. Change those fields, or pick another preset."
        )
