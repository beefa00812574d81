"""KerasTuner for tf_keras models while Keras 3 is installed: trials that train them.

KerasTuner 1.4.8 picks its Keras by itself: `keras_tuner.src.backend.config`
uses Keras 3 whenever `keras.version()` starts with "3." (no environment
variable changes that; `TF_USE_LEGACY_KERAS` only switches what `tf.keras`
is). Its trial loop then cannot train a tf_keras model: `Tuner._try_build`
rejects it (`isinstance(model, keras.Model)` against Keras 3's class raises
FatalTypeError), and the callbacks `Tuner.run_trial` adds (`TunerCallback`,
`SaveBestEpoch`) are Keras 3 callbacks, which tf_keras' `fit` breaks on
(AttributeError: no `_implements_train_batch_hooks`). The oracle, trial
bookkeeping and result files do not touch Keras and are kept as they are.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import keras_tuner
import tf_keras as keras


class TfKerasRandomSearch(keras_tuner.RandomSearch):
    """Random search over tf_keras models (see the module docstring for why).

    `run_trial` clears tf_keras' session, builds the hypermodel and calls its
    `fit` with tf_keras callbacks only, checkpoints the best epoch with
    tf_keras' `ModelCheckpoint`, and reports the best epoch's metrics as a
    dict, which KerasTuner accepts whichever Keras made them. `load_model`
    reloads that checkpoint, so `get_best_models` works too. The hypermodel's
    `build(hp)` returns a compiled tf_keras model and its `fit(hp, model, *args,
    callbacks=..., **kwargs)` returns tf_keras' History.
    """

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        # Fresh layer-name counters and graph state for each trial's model.
        keras.backend.clear_session()
        objective = self.oracle.objective
        dnn = self.hypermodel.build(trial.hyperparameters)
        # Each trial gets untouched copies (early stopping's state, say), as in KerasTuner.
        callbacks = copy.deepcopy(list(fit_kwargs.pop("callbacks", [])))
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                self._get_checkpoint_fname(trial.trial_id),
                monitor=objective.name,
                mode=objective.direction,
                save_best_only=True,
                save_weights_only=True,
            )
        )
        history = self.hypermodel.fit(
            trial.hyperparameters, dnn, *fit_args, callbacks=callbacks, **fit_kwargs
        ).history
        return best_epoch_metrics(history, objective)

    def load_model(self, trial):
        dnn = self.hypermodel.build(trial.hyperparameters)
        dnn.load_weights(self._get_checkpoint_fname(trial.trial_id))
        return dnn


def best_epoch_metrics(
    history: Mapping[str, list[float]], objective: keras_tuner.Objective
) -> dict[str, float]:
    """Every metric at the epoch where `objective` was best.

    Raises:
      ValueError: `history` does not record the objective.
    """
    if objective.name not in history:
        raise ValueError(
            f"Training recorded {sorted(history)}, not the tuning objective {objective.name!r}."
        )
    values = history[objective.name]
    pick = max if objective.direction == "max" else min
    best = pick(range(len(values)), key=values.__getitem__)
    return {name: float(epochs[best]) for name, epochs in history.items()}
