"""The tree challenger: gradient-boosted trees (TensorFlow Decision Forests) on the same
Transform output as the deep network, wrapped to honour the same serving contract.

The trees read the transformed features as they are: standardized numerics (a monotonic
rescaling changes no split a tree can make), and integer ids for categoricals, declared
CATEGORICAL so the learner splits on sets of ids rather than on their arbitrary order.
The eval split is the validation data for early stopping, as it is for the deep
network. Trees cannot be warm-started from the live model: each span trains from
scratch, and the record says so. None of the DNN-only export options apply
(`Trained.network` is None).

A SavedModel holding these trees runs TF-DF's inference ops: whatever process loads it
imports `tensorflow_decision_forests` first (`components.serving_ops`).
"""

from __future__ import annotations

import logging
import time

import tensorflow as tf
import tensorflow_decision_forests as tfdf
import tf_keras as keras

from components import serving_ops
from components.dataset import Task
from components.trainer.families.base import ModelFamily, Trained, TrainingContext

logger = logging.getLogger(__name__)

# Upper bound on boosting rounds; early stopping on the eval split decides how many stay.
# TF-DF's default is 300 at shrinkage 0.1; a larger cap lets slow-to-fit data sets use more.
MAX_TREES = 500
# TF-DF's defaults for gradient-boosted trees (shrinkage 0.1, depth 6, 30 trees of
# look-ahead before stopping on a rising validation loss) are the library's documented
# defaults for tabular data; we keep them and name them here so the record shows them.
SHRINKAGE = 0.1
MAX_DEPTH = 6
EARLY_STOPPING_LOOK_AHEAD = 30
# Categorical splits: TF-DF's documented default (CART) searches the best set of ids for
# each split, which suits the few-dozen-id vocabularies of tabular columns.
CATEGORICAL_ALGORITHM = "CART"
WRAPPER_NAME = "deepline_gbdt"
TREES_NAME = "gradient_boosted_trees"


def _label_for(task: Task):
    """Casts the label to what TF-DF reads: class ids as int64, regression targets as float32."""
    dtype = tf.float32 if task is Task.REGRESSION else tf.int64

    def cast(features, label):
        return features, tf.cast(tf.reshape(label, [-1]), dtype)

    return cast


def feature_usages(context: TrainingContext) -> list[tfdf.keras.FeatureUsage]:
    """Each transformed feature with its semantic: CATEGORICAL for ids, NUMERICAL else."""
    semantic = tfdf.keras.FeatureSemantic
    return [
        tfdf.keras.FeatureUsage(
            name=f.name,
            semantic=semantic.CATEGORICAL if f.is_categorical else semantic.NUMERICAL,
        )
        for f in context.features
    ]


class GradientBoostedTrees(ModelFamily):
    """`--model gbdt`."""

    def train(self, context: TrainingContext) -> Trained:
        serving_ops.register()  # quiet: TF-DF's C++ info lines stay off the console
        head, hparams = context.head, context.hparams
        task = (
            tfdf.keras.Task.REGRESSION
            if head.task is Task.REGRESSION
            else (tfdf.keras.Task.CLASSIFICATION)
        )
        trees = tfdf.keras.GradientBoostedTreesModel(
            task=task,
            features=feature_usages(context),
            exclude_non_specified_features=True,
            num_trees=MAX_TREES,
            shrinkage=SHRINKAGE,
            max_depth=MAX_DEPTH,
            categorical_algorithm=CATEGORICAL_ALGORITHM,
            early_stopping="LOSS_INCREASE",
            early_stopping_num_trees_look_ahead=EARLY_STOPPING_LOOK_AHEAD,
            random_seed=hparams.seed,
            verbose=0,
            # Our batches come from whole-window gathers (`data.make_dataset`), not a
            # `batch` op, which TF-DF's dataset check looks for; they are batches all the same.
            check_dataset=False,
            name=TREES_NAME,
        )
        cast = _label_for(head.task)
        started = time.monotonic()
        trees.fit(context.train_ds.map(cast), validation_data=context.eval_ds.map(cast))
        seconds = time.monotonic() - started

        model = _wrap(trees, context)
        inspector = trees.make_inspector()
        logs = inspector.training_logs()
        validation_loss = float(logs[-1].evaluation.loss) if logs else None
        record = {
            "family": "gbdt",
            "library": f"tensorflow_decision_forests {tfdf.__version__}",
            "num_trees": int(inspector.num_trees()),
            "max_trees": MAX_TREES,
            "shrinkage": SHRINKAGE,
            "max_depth": MAX_DEPTH,
            "early_stopping_look_ahead": EARLY_STOPPING_LOOK_AHEAD,
            "categorical_features": [f.name for f in context.features if f.is_categorical],
            "validation_loss": validation_loss,
            "training_seconds": round(seconds, 2),
            "warm_start": (
                None
                if not context.base_model
                else {
                    "base_model": context.base_model,
                    "reused_layers": [],
                    "note": "trees cannot continue from a previous model; trained from scratch",
                }
            ),
        }
        logger.info(
            "Gradient-boosted trees: %d trees kept (of at most %d) in %.1f s; validation loss %s.",
            record["num_trees"],
            MAX_TREES,
            seconds,
            "n/a" if validation_loss is None else f"{validation_loss:.4f}",
        )
        return Trained(model=model, record=record, network=None)


def _wrap(trees: keras.Model, context: TrainingContext) -> keras.Model:
    """A functional model over the features' inputs whose output is named as the head's.

    TF-DF returns P(positive) as (batch, 1) for a binary label, (batch, classes) for
    several, and (batch, 1) for regression: the head's shapes already.

    Raises:
      ValueError: the trees predict fewer classes than the label has (a class absent from
        the training split).
    """
    head = context.head
    spec = context.train_ds.element_spec[0]
    inputs = {
        f.name: keras.Input(shape=spec[f.name].shape[1:], dtype=spec[f.name].dtype, name=f.name)
        for f in context.features
    }
    predicted = trees(inputs)
    if predicted.shape[-1] != head.units:
        raise ValueError(
            f"Trainer (gbdt): the trees predict {predicted.shape[-1]} value(s) per example but "
            f"the label {context.spec.label_key!r} has {head.units} output(s); a class is "
            "probably absent from the training split. Check the label's values and the split."
        )
    output = keras.layers.Activation("linear", dtype="float32", name=head.prediction_key)(predicted)
    return keras.Model(inputs, output, name=WRAPPER_NAME)


FAMILY = GradientBoostedTrees()
