"""What the Trainer and the Tuner share: the Keras-mode check, vocabulary sizes, the
train/eval datasets, what a model takes from the training data before its first step and
how it is compiled, so both train exactly the same way."""

from __future__ import annotations

import logging

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from components.dataset import DatasetSpec, TransformedFeature
from components.trainer import data, model, optimization
from components.trainer.heads import BINARY_HEAD, Head, adapt_prior_bias, adapt_target_scale
from components.trainer.hparams import MIN_STEPS_PER_EPOCH, HParams

logger = logging.getLogger(__name__)

# Training batches `adapt_to_training_data` measures.
STANDARDIZATION_BATCHES = 20


def check_keras_mode() -> None:
    """Raises RuntimeError unless tf.keras is tf_keras in this process."""
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
    features: tuple[TransformedFeature, ...],
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


def fit_batch_to_data(hparams: HParams, train_files, replicas: int) -> HParams:
    """`hparams` with the batch the training split's size calls for
    (`HParams.for_training_rows`); the split is counted only as far as that needs."""
    if hparams.batch_size is not None:
        return hparams
    preset_batch = hparams.preset_batch_size
    rows = data.count_records(train_files, at_most=MIN_STEPS_PER_EPOCH * preset_batch * replicas)
    fitted = hparams.for_training_rows(rows // replicas)
    if fitted.batch_size is not None:
        logger.info(
            "%d training rows: batch size %d instead of %d, so an epoch is at least %d steps.",
            rows,
            fitted.batch_size,
            preset_batch,
            MIN_STEPS_PER_EPOCH,
        )
    return fitted


def make_datasets(
    train_files,
    eval_files,
    tf_transform_output: tft.TFTransformOutput,
    spec: DatasetSpec,
    hparams: HParams,
    global_batch: int,
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Returns (shuffled train batches, eval batches) of Transform's output."""
    feature_spec = tf_transform_output.transformed_feature_spec()
    train_ds = data.make_dataset(
        train_files,
        feature_spec,
        spec.label_key,
        global_batch,
        shuffle=True,
        seed=hparams.seed,
        shuffle_buffer=hparams.shuffle_buffer,
    )
    eval_ds = data.make_dataset(
        eval_files,
        feature_spec,
        spec.label_key,
        global_batch,
        shuffle=False,
        seed=hparams.seed,
    )
    return train_ds, eval_ds


def adapt_to_training_data(dnn: keras.Model, dataset: tf.data.Dataset, hparams: HParams) -> None:
    """Sets what `dnn` takes from the training batches before its first step: the
    self-normalizing net's input standardization, a regression head's output scale and,
    with `hparams.prior_output_bias`, a classifier's output bias at the base rates."""
    model.adapt_input_standardization(dnn, dataset, batches=STANDARDIZATION_BATCHES)
    adapt_target_scale(dnn, dataset, batches=STANDARDIZATION_BATCHES)
    if hparams.prior_output_bias:
        adapt_prior_bias(dnn, dataset, batches=STANDARDIZATION_BATCHES)


def compile_model(
    dnn: keras.Model, hparams: HParams, learning_rate, strategy, head: Head = BINARY_HEAD
) -> None:
    """Compiles `dnn` under `strategy`: the optimizer `hparams` names at `learning_rate`,
    and the loss and metrics of `head` (defaults to a binary head)."""
    with strategy.scope():
        dnn.compile(
            optimizer=optimization.make_optimizer(hparams, learning_rate),
            loss=head.loss(),
            metrics=head.metrics(),
        )
