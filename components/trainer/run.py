"""TFX Trainer entry point: `run_fn` coordinates input, model, training and export."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from components import features as features_lib
from components.trainer import callbacks as training_callbacks
from components.trainer import data, distribution, export, model, optimization, warm_start
from components.trainer.hparams import HParams

logger = logging.getLogger(__name__)

HISTORY_FILE = "history.json"
FIRST_HIDDEN = "hidden_0"
# Callbacks that only observe; the frozen warm-start phase keeps these and
# leaves the learning-rate schedule and early stopping to the main phase.
REPORTING_CALLBACKS = (training_callbacks.StepRecorder, training_callbacks.EpochLogger)


def _compile(dnn: keras.Model, hparams: HParams, learning_rate: float, strategy) -> None:
    with strategy.scope():
        dnn.compile(
            optimizer=optimization.make_optimizer(
                dataclasses.replace(hparams, learning_rate=learning_rate)
            ),
            loss=keras.losses.BinaryCrossentropy(),
            metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")],
        )


def _check_keras_mode() -> None:
    # TF Transform builds its layer with `tf.keras`; our model uses tf_keras.
    # They only mix when tf.keras *is* tf_keras, i.e. TF_USE_LEGACY_KERAS=1 was
    # set before TensorFlow was imported.
    if not tf.keras.__name__.startswith("tf_keras"):
        raise RuntimeError(
            "tf.keras is Keras 3 in this process, but Deepline trains with tf_keras: set "
            "TF_USE_LEGACY_KERAS=1 in the environment before TensorFlow is imported "
            "(the `deepline` command and `make` do this for you)."
        )


def categorical_cardinalities(
    features: tuple[features_lib.TransformedFeature, ...],
    tf_transform_output: tft.TFTransformOutput,
) -> dict[str, int]:
    """Number of ids of each categorical feature; vocabulary sizes come from Transform."""
    sizes = {}
    for feature in features:
        if not feature.is_categorical:
            continue
        if feature.vocabulary_name is not None:
            vocabulary = tf_transform_output.vocabulary_size_by_name(feature.vocabulary_name)
            sizes[feature.name] = vocabulary + feature.extra_ids
        else:
            sizes[feature.name] = feature.cardinality
    return sizes


def run_fn(fn_args) -> None:
    """Trains the DNN on Transform's output and exports the serving model.

    Args:
      fn_args: TFX `FnArgs`. `custom_config["hparams"]` holds `HParams.to_dict()`.
    """
    _check_keras_mode()
    hparams = HParams.from_dict((fn_args.custom_config or {}).get("hparams", {}))
    registry = features_lib.TAXI
    keras.utils.set_random_seed(hparams.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    feature_spec = tf_transform_output.transformed_feature_spec()
    features = registry.transformed_features()

    strategy = distribution.choose_strategy()
    global_batch = hparams.batch_size * strategy.num_replicas_in_sync
    train_ds = data.make_dataset(
        fn_args.train_files,
        feature_spec,
        registry.label_key,
        global_batch,
        shuffle=True,
        seed=hparams.seed,
        shuffle_buffer=hparams.shuffle_buffer,
    )
    eval_ds = data.make_dataset(
        fn_args.eval_files,
        feature_spec,
        registry.label_key,
        global_batch,
        shuffle=False,
        seed=hparams.seed,
    )

    with strategy.scope():
        dnn = model.build_model(
            features, categorical_cardinalities(features, tf_transform_output), hparams
        )
    model.skip_autograph(dnn)
    reused, warm = [], None
    if fn_args.base_model:
        reused = warm_start.transfer_weights(dnn, fn_args.base_model)
        warm = {
            "base_model": fn_args.base_model,
            "reused_layers": reused,
            # Lets a test check that training started from the base model's weights.
            "first_layer_kernel_sum_at_start": float(
                np.sum(dnn.get_layer(FIRST_HIDDEN).get_weights()[0])
            ),
        }

    callbacks = optimization.make_callbacks(hparams, log_dir=fn_args.model_run_dir)
    steps = next(c for c in callbacks if isinstance(c, training_callbacks.StepRecorder))
    reporting = [c for c in callbacks if isinstance(c, REPORTING_CALLBACKS)]
    fit = functools.partial(dnn.fit, train_ds, validation_data=eval_ds, verbose=0)
    learning_rate, frozen = hparams.learning_rate, {}
    if reused and hparams.warm_start_frozen_epochs > 0:
        warm_start.set_trainable(dnn, reused, False)
        _compile(dnn, hparams, learning_rate, strategy)
        frozen = fit(epochs=hparams.warm_start_frozen_epochs, callbacks=reporting).history
        frozen["lr"] = [learning_rate] * len(frozen["loss"])
        warm_start.set_trainable(dnn, reused, True)
        learning_rate *= hparams.warm_start_learning_rate_factor
    _compile(dnn, hparams, learning_rate, strategy)
    history = fit(epochs=hparams.max_epochs, callbacks=callbacks).history
    # Early stopping restored the best weights of the last phase.
    best = len(frozen.get("loss", [])) + min(
        range(len(history["val_loss"])), key=history["val_loss"].__getitem__
    )
    history = {k: list(frozen.get(k, [])) + list(v) for k, v in history.items()}
    epochs = len(history["loss"])
    logger.info(
        "Stopped after %d epochs; best epoch %d: val_loss %.4f, val_accuracy %.4f, val_auc %.4f.",
        epochs,
        best + 1,
        history["val_loss"][best],
        history["val_accuracy"][best],
        history["val_auc"][best],
    )
    tf.io.gfile.makedirs(fn_args.model_run_dir)
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, HISTORY_FILE), "w") as f:
        json.dump(
            {
                "epochs": epochs,
                "best_epoch": best + 1,
                "hparams": hparams.to_dict(),
                "history": {k: [float(v) for v in vs] for k, vs in history.items()},
                "steps": {"learning_rate": steps.learning_rate, "momentum": steps.momentum},
                "warm_start": warm,
            },
            f,
            indent=2,
        )
    export.export_serving_model(dnn, tf_transform_output, registry, fn_args.serving_model_dir)
