"""The deep network of the presets: the dense stack of `model.build_model`, trained with
the chosen loop, schedule and callbacks, warm-started from the live model when given one.

It honours every option: folding, MC dropout and TFLite work on its network, the Tuner
searches its hyperparameters, and warm start copies the live model's layers.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os

import numpy as np
import tensorflow as tf
import tf_keras as keras

from components.trainer import callbacks as training_callbacks
from components.trainer import (
    custom_loop,
    lr_finder,
    model,
    optimization,
    prepare,
    warm_start,
)
from components.trainer.families.base import ModelFamily, Trained, TrainingContext
from components.trainer.hparams import HParams

logger = logging.getLogger(__name__)

FIRST_HIDDEN = "hidden_0"
LR_FINDER_PLOT = "lr_finder.png"
# Callbacks that only observe; the frozen warm-start phase keeps these and
# leaves the learning-rate schedule and early stopping to the main phase.
REPORTING_CALLBACKS = (training_callbacks.StepRecorder, training_callbacks.EpochLogger)


def _train(dnn, hparams: HParams, learning_rate, strategy, head, train_ds, eval_ds, **options):
    """One training phase with the chosen loop; returns its history.

    Args:
      options: epochs, callbacks (fit) / log_dir (custom loop).
    """
    epochs, callbacks = options["epochs"], options["callbacks"]
    if hparams.training_loop == "fit":
        prepare.compile_model(dnn, hparams, learning_rate, strategy, head)
        return dnn.fit(
            train_ds, validation_data=eval_ds, epochs=epochs, callbacks=callbacks, verbose=0
        ).history
    with strategy.scope():
        # Clipping happens in the loop, on the gradients summed over replicas.
        optimizer = optimization.make_optimizer(
            dataclasses.replace(hparams, clip_norm=None, clip_value=None), learning_rate
        )
    logger_callback = next(c for c in callbacks if isinstance(c, training_callbacks.EpochLogger))
    recorder = next((c for c in callbacks if isinstance(c, training_callbacks.StepRecorder)), None)
    return custom_loop.train_custom_loop(
        dnn,
        optimizer,
        head.loss(keras.losses.Reduction.NONE),
        head.metrics,
        train_ds,
        eval_ds,
        strategy=strategy,
        epochs=epochs,
        early_stopping_patience=hparams.early_stopping_patience,
        clip_norm=hparams.clip_norm,
        clip_value=hparams.clip_value,
        log_dir=options.get("log_dir"),
        on_epoch_end=lambda epoch, logs: logger_callback.on_epoch_end(epoch, logs),
        on_step_begin=(lambda: recorder.record(optimizer)) if recorder else None,
    )


def _find_learning_rate(dnn, hparams: HParams, strategy, head, train_ds, run_dir: str) -> dict:
    """Runs the learning-rate finder, saves its plot; returns its record."""
    prepare.compile_model(dnn, hparams, hparams.learning_rate, strategy, head)
    found = lr_finder.find_learning_rate(dnn, train_ds)
    tf.io.gfile.makedirs(run_dir)
    lr_finder.save_lr_finder_plot(found, os.path.join(run_dir, LR_FINDER_PLOT))
    logger.info(
        "Learning-rate finder: lowest loss at rate %.3g; proposed 1cycle peak %.3g.",
        found.best_rate,
        found.proposed_max_rate,
    )
    return {
        "rates": list(found.rates),
        "losses": list(found.losses),
        "proposed_max_rate": found.proposed_max_rate,
    }


class DeepNetwork(ModelFamily):
    """`--model dnn`."""

    def train(self, context: TrainingContext) -> Trained:
        hparams, head, strategy = context.hparams, context.head, context.strategy
        train_ds, eval_ds = context.train_ds, context.eval_ds
        with strategy.scope():
            dnn = model.build_model(context.features, context.cardinalities, hparams, head)
        model.skip_autograph(dnn)
        prepare.adapt_to_training_data(dnn, train_ds, hparams)
        reused, warm = [], None
        if context.base_model:
            reused = warm_start.transfer_weights(dnn, context.base_model)
            warm = {
                "base_model": context.base_model,
                "reused_layers": reused,
                # Lets a test check that training started from the base model's weights.
                "first_layer_kernel_sum_at_start": float(
                    np.sum(dnn.get_layer(FIRST_HIDDEN).get_weights()[0])
                ),
            }

        # Per-step schedules are planned in steps (and the history reports them);
        # this pass over the data also fills the input cache.
        steps_per_epoch = int(train_ds.reduce(0, lambda n, _: n + 1))
        finder = None
        if hparams.lr_finder or (
            hparams.lr_schedule == "one_cycle" and hparams.one_cycle_max_rate is None
        ):
            finder = _find_learning_rate(dnn, hparams, strategy, head, train_ds, context.run_dir)
            if hparams.lr_schedule == "one_cycle" and hparams.one_cycle_max_rate is None:
                hparams = dataclasses.replace(
                    hparams, one_cycle_max_rate=finder["proposed_max_rate"]
                )

        callbacks = optimization.make_callbacks(
            hparams,
            steps_per_epoch=steps_per_epoch,
            log_dir=context.run_dir,
            norm_batch=next(iter(train_ds)),
        )
        steps = next(c for c in callbacks if isinstance(c, training_callbacks.StepRecorder))
        reporting = [c for c in callbacks if isinstance(c, REPORTING_CALLBACKS)]
        train = functools.partial(
            _train, dnn, strategy=strategy, head=head, train_ds=train_ds, eval_ds=eval_ds
        )
        frozen = {}
        if reused and hparams.warm_start_frozen_epochs > 0:
            warm_start.set_trainable(dnn, reused, False)
            frozen = train(
                hparams,
                hparams.learning_rate,
                epochs=hparams.warm_start_frozen_epochs,
                callbacks=reporting,
            )
            frozen.setdefault("lr", [hparams.learning_rate] * len(frozen["loss"]))
            warm_start.set_trainable(dnn, reused, True)
            # The reused layers move gently; a 1cycle peak drops with the rest.
            factor = hparams.warm_start_learning_rate_factor
            hparams = dataclasses.replace(
                hparams,
                learning_rate=hparams.learning_rate * factor,
                one_cycle_max_rate=(hparams.one_cycle_max_rate or hparams.learning_rate) * factor,
            )
        history = train(
            hparams,
            optimization.make_learning_rate(hparams, steps_per_epoch),
            epochs=optimization.training_epochs(hparams),
            callbacks=callbacks,
            log_dir=context.run_dir,
        )
        # Early stopping restored the best weights of the last phase (1cycle keeps the last).
        best_in_phase = (
            len(history["val_loss"]) - 1
            if hparams.lr_schedule == "one_cycle"
            else min(range(len(history["val_loss"])), key=history["val_loss"].__getitem__)
        )
        best = len(frozen.get("loss", [])) + best_in_phase
        history = {k: list(frozen.get(k, [])) + list(v) for k, v in history.items()}
        epochs = len(history["loss"])
        logger.info(
            "Stopped after %d epochs; best epoch %d: %s.",
            epochs,
            best + 1,
            ", ".join(
                f"val_{name} {history[f'val_{name}'][best]:.4f}"
                for name in ["loss"] + [m.name for m in head.metrics()]
            ),
        )
        record = {
            "epochs": epochs,
            "best_epoch": best + 1,
            "steps_per_epoch": steps_per_epoch,
            "hparams": hparams.to_dict(),
            "history": {k: [float(v) for v in vs] for k, vs in history.items()},
            "steps": {"learning_rate": steps.learning_rate, "momentum": steps.momentum},
            "lr_finder": finder,
            "warm_start": warm,
        }
        return Trained(model=dnn, record=record, network=dnn)


FAMILY = DeepNetwork()
