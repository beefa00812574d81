"""The tree challenger: gradient-boosted trees (TensorFlow Decision Forests) on the same
Transform output as the deep network, wrapped to honour the same serving contract.

The trees read the transformed features as they are: standardized numerics (a monotonic
rescaling changes no split a tree can make), and integer ids for categoricals, declared
CATEGORICAL so the learner splits on sets of ids rather than on their arbitrary order.
The eval split is the validation data for early stopping, as it is for the deep
network. On a small training split (fewer than `REFIT_MAX_TRAIN_ROWS` rows) the eval rows
are too many to leave out of the model served: once early stopping has chosen the number of
boosting iterations, the same learner is fitted again on train + eval for that many, and that
refit is served. The early-stopped model is what the eval split scores (`Trained.eval_model`), so
choosing between candidates never reads a model that saw its eval rows, and the test split
stays out of both fits. Trees cannot be warm-started from the live model: each span trains
from scratch, and the record says so. None of the DNN-only export options apply
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
# Training rows below which the served trees are refitted on train + eval (see above):
# there, each eval row left out is a larger share of the data (on concrete's 732 training
# rows and 139 eval rows, 16%). The second fit cost 6-21 s of a loaded machine on the quality
# suite's small sets (README); above this size the learning curve is flatter and every run
# would pay it.
REFIT_MAX_TRAIN_ROWS = 5_000
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
        cast = _label_for(context.head.task)
        started = time.monotonic()
        trees = _learner(context, MAX_TREES, early_stopping="LOSS_INCREASE")
        trees.fit(context.train_ds.map(cast), validation_data=context.eval_ds.map(cast))
        seconds = time.monotonic() - started

        model = _wrap(trees, context)
        inspector = trees.make_inspector()
        # Boosting iterations: one tree each, or one per class for several classes.
        iterations = int(inspector.num_trees()) // int(inspector.num_trees_per_iter)
        train_rows = _rows(context.train_ds)
        small = train_rows < REFIT_MAX_TRAIN_ROWS
        refit = _refit(context, iterations, train_rows) if small else None
        logs = inspector.training_logs()
        validation_loss = float(logs[-1].evaluation.loss) if logs else None
        record = {
            "family": "gbdt",
            "library": f"tensorflow_decision_forests {tfdf.__version__}",
            "num_trees": int(inspector.num_trees()),
            "iterations": iterations,
            "max_trees": MAX_TREES,
            "shrinkage": SHRINKAGE,
            "max_depth": MAX_DEPTH,
            "early_stopping_look_ahead": EARLY_STOPPING_LOOK_AHEAD,
            "categorical_features": [f.name for f in context.features if f.is_categorical],
            "validation_loss": validation_loss,
            "training_seconds": round(seconds, 2),
            "refit": None if refit is None else refit[1],
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
        if refit is None:
            return Trained(model=model, record=record, network=None)
        return Trained(model=refit[0], record=record, network=None, eval_model=model)


def _learner(context: TrainingContext, num_trees: int, early_stopping: str):
    """TF-DF's gradient-boosted trees as configured above, over the transformed features."""
    regression = context.head.task is Task.REGRESSION
    return tfdf.keras.GradientBoostedTreesModel(
        task=tfdf.keras.Task.REGRESSION if regression else tfdf.keras.Task.CLASSIFICATION,
        features=feature_usages(context),
        exclude_non_specified_features=True,
        num_trees=num_trees,
        shrinkage=SHRINKAGE,
        max_depth=MAX_DEPTH,
        categorical_algorithm=CATEGORICAL_ALGORITHM,
        early_stopping=early_stopping,
        early_stopping_num_trees_look_ahead=EARLY_STOPPING_LOOK_AHEAD,
        random_seed=context.hparams.seed,
        verbose=0,
        # Our batches come from whole-window gathers (`data.make_dataset`), not a
        # `batch` op, which TF-DF's dataset check looks for; they are batches all the same.
        check_dataset=False,
        name=TREES_NAME,
    )


def _rows(dataset: tf.data.Dataset) -> int:
    return sum(int(tf.shape(label)[0]) for _, label in dataset)


def _refit(context: TrainingContext, iterations: int, train_rows: int) -> tuple[keras.Model, dict]:
    """The learner fitted on train + eval (`train_rows` + the eval split's) for the
    early-stopped model's boosting `iterations` (no validation data, so no early stopping),
    wrapped; and its record."""
    cast = _label_for(context.head.task)
    started = time.monotonic()
    # TF-DF's `num_trees` counts iterations (a multiclass iteration grows a tree per class).
    trees = _learner(context, iterations, early_stopping="NONE")
    trees.fit(context.train_ds.concatenate(context.eval_ds).map(cast))
    seconds = time.monotonic() - started
    record = {
        "rows": train_rows + _rows(context.eval_ds),
        "num_trees": int(trees.make_inspector().num_trees()),
        "training_seconds": round(seconds, 2),
        "note": "served: refitted on train + eval for the early-stopped number of iterations; "
        "the eval scores are the early-stopped model's",
    }
    logger.info(
        "Gradient-boosted trees refitted on train + eval (%d rows, %d trees) in %.1f s.",
        record["rows"],
        record["num_trees"],
        seconds,
    )
    return _wrap(trees, context), record


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
