"""Trainer hyperparameters: every field documented and defaulted here, and nowhere else.

The pipeline passes them to the Trainer as `custom_config["hparams"]` (plain
JSON), and `run_fn` rebuilds them with `HParams.from_dict`, so a run's
hyperparameters are recorded in ML Metadata with the Trainer execution and
are part of its cache key.
"""

from __future__ import annotations

import dataclasses
from typing import Any

# A net with more hidden layers than this is "deep": it gets Swish with batch
# normalization instead of plain ReLU (Hands-On ML, ch. 11).
DEEP_NET_MIN_LAYERS = 4


@dataclasses.dataclass(frozen=True)
class HParams:
    """Hyperparameters of the Keras DNN and its training.

    Attributes:
      hidden_units: Width of each hidden dense layer, input side first.
        Defaults to (256, 128, 64).
      activation: Hidden-layer activation, or "auto": "relu" for a shallow
        net, "swish" for a deep one. Defaults to "auto".
      batch_norm: Batch normalization after each hidden dense layer, or None
        for auto: on for a deep net. Defaults to None.
      initializer: Kernel initializer of hidden layers. He initialization
        suits the ReLU family and Swish. Defaults to "he_normal".
      dropout: Dropout rate after each hidden layer. Defaults to 0.1.
      embedding_dim: Embedding width for a categorical feature with n ids is
        min(embedding_dim, ceil(1.6 * n ** 0.56)), a common rule of thumb.
        Defaults to 16.
      optimizer: "adamw" or "nesterov" (SGD with Nesterov momentum 0.9).
        Defaults to "adamw".
      learning_rate: Initial learning rate. Defaults to 1e-3.
      weight_decay: Decoupled weight decay of AdamW. Defaults to 1e-4.
      batch_size: Examples per training step. Defaults to 256.
      max_epochs: Upper bound only; early stopping decides the length.
        Defaults to 200.
      early_stopping_patience: Epochs without eval-loss improvement before
        training stops and the best weights are restored. Defaults to 8.
      reduce_lr_patience: Epochs without improvement before the learning rate
        is multiplied by `reduce_lr_factor`. Defaults to 3.
      reduce_lr_factor: Defaults to 0.3.
      min_learning_rate: Floor of the reduced learning rate. Defaults to 1e-5.
      shuffle_buffer: Examples in the shuffle buffer. Defaults to 10_000.
      warm_start_frozen_epochs: When the Trainer is given a base model, the
        epochs its reused layers stay frozen before all layers train. Defaults to 2.
      warm_start_learning_rate_factor: Multiplies the learning rate once the
        reused layers are unfrozen. Defaults to 0.1.
      seed: Seed for weight initialization and shuffling. Defaults to 42.
    """

    hidden_units: tuple[int, ...] = (256, 128, 64)
    activation: str = "auto"
    batch_norm: bool | None = None
    initializer: str = "he_normal"
    dropout: float = 0.1
    embedding_dim: int = 16
    optimizer: str = "adamw"
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 256
    max_epochs: int = 200
    early_stopping_patience: int = 8
    reduce_lr_patience: int = 3
    reduce_lr_factor: float = 0.3
    min_learning_rate: float = 1e-5
    shuffle_buffer: int = 10_000
    warm_start_frozen_epochs: int = 2
    warm_start_learning_rate_factor: float = 0.1
    seed: int = 42

    def __post_init__(self):
        if not self.hidden_units or any(u <= 0 for u in self.hidden_units):
            raise ValueError(f"hidden_units must be positive widths, got {self.hidden_units}.")
        if self.optimizer not in ("adamw", "nesterov"):
            raise ValueError(f"optimizer must be 'adamw' or 'nesterov', got {self.optimizer!r}.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")

    @property
    def is_deep(self) -> bool:
        return len(self.hidden_units) >= DEEP_NET_MIN_LAYERS

    @property
    def resolved_activation(self) -> str:
        if self.activation != "auto":
            return self.activation
        return "swish" if self.is_deep else "relu"

    @property
    def resolved_batch_norm(self) -> bool:
        return self.is_deep if self.batch_norm is None else self.batch_norm

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
        if "hidden_units" in values:
            values["hidden_units"] = tuple(values["hidden_units"])
        return cls(**values)
