"""Custom training loop: Keras `fit`'s result contract, with every step written out.

`train_custom_loop` trains a Keras model with a `tf.GradientTape` step run per
replica through a `tf.distribute.Strategy`, evaluates after every epoch, stops
early on `val_loss` and returns a history shaped like `fit`'s:
`{"loss", <metric>..., "val_loss", "val_<metric>"..., "lr"}`, one float per
epoch. Use it when a step needs something `fit` does not expose (exact
uneven-batch scaling, gradient statistics, custom clipping).

Differences from `fit` + `EarlyStopping(restore_best_weights=True)`:
  * the best weights are restored whenever training ends, also when it ran
    all `epochs` without stopping early (Keras restores only on an early stop);
  * the loss of a step is the mean over the *actual* global batch, also for a
    last batch split unevenly across replicas (Keras divides each replica's
    mean by the number of replicas).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable

import numpy as np
import tensorflow as tf
import tf_keras as keras

LOSS = "loss"
LEARNING_RATE = "lr"
VALIDATION_PREFIX = "val_"
# Same writer sub-directories and tag prefix as keras.callbacks.TensorBoard, so
# runs of both loops line up on one dashboard.
TRAIN_WRITER = "train"
VALIDATION_WRITER = "validation"
EPOCH_TAG = "epoch_"
WEIGHT_NORM_TAG = "weight_norm/"
GRADIENT_NORM_TAG = "gradient_norm/"

EpochHook = Callable[[int, dict[str, float]], None]


def clip_gradients(
    grads: Iterable[tf.Tensor | tf.IndexedSlices | None],
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> list[tf.Tensor | tf.IndexedSlices | None]:
    """Clips gradients by their global norm or element-wise by value.

    Clipping by global norm scales all gradients by one factor, so the update
    keeps its direction; clipping by value changes each element on its own and
    so can turn the update.

    Args:
      grads: Gradients, one per variable; None entries are passed through.
      clip_norm: Scale all gradients down so their global L2 norm is at most
        this. Defaults to None (no norm clipping).
      clip_value: Clip every element to [-clip_value, clip_value]. Defaults to
        None (no value clipping).

    Returns:
      The clipped gradients, in order; unchanged if both limits are None.

    Raises:
      ValueError: both limits are given, or a limit is not positive.
    """
    grads = list(grads)
    if clip_norm is not None and clip_value is not None:
        raise ValueError(
            f"Give clip_norm ({clip_norm}) or clip_value ({clip_value}), not both: "
            "clipping by value after clipping by norm would change the direction again."
        )
    for name, limit in (("clip_norm", clip_norm), ("clip_value", clip_value)):
        if limit is not None and not limit > 0:
            raise ValueError(f"{name} must be positive (or None for no clipping), got {limit}.")
    if clip_norm is not None:
        clipped, _ = tf.clip_by_global_norm(grads, clip_norm)
        return list(clipped)
    if clip_value is not None:
        return [None if g is None else tf.clip_by_value(g, -clip_value, clip_value) for g in grads]
    return grads


def current_learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """Learning rate the optimizer's next step will use.

    Args:
      optimizer: A tf_keras optimizer with a float or `LearningRateSchedule`
        learning rate.

    Returns:
      The float rate, or the schedule evaluated at `optimizer.iterations`.
    """
    # The public `learning_rate` of a scheduled optimizer is the rate of the
    # *last* step; the schedule itself is only kept in `_learning_rate` (Keras'
    # own TensorBoard callback reads it there too).
    schedule = getattr(optimizer, "_learning_rate", None)
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return float(schedule(optimizer.iterations))
    return float(keras.backend.get_value(optimizer.learning_rate))


def train_custom_loop(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    loss_fn: Callable[[tf.Tensor, tf.Tensor], tf.Tensor],
    metrics_factory: Callable[[], Iterable[keras.metrics.Metric]],
    train_ds: tf.data.Dataset,
    eval_ds: tf.data.Dataset,
    *,
    strategy: tf.distribute.Strategy,
    epochs: int,
    early_stopping_patience: int,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    log_dir: str | None = None,
    on_epoch_end: EpochHook | None = None,
    on_step_begin: Callable[[], None] | None = None,
) -> dict[str, list[float]]:
    """Trains `model` epoch by epoch, evaluating and early-stopping on `val_loss`.

    The model and the optimizer must have been created under
    `strategy.scope()`: their variables are then mirrored on every replica.
    Gradients are summed across replicas, clipped, and applied once; the
    optimizer then applies the variables' constraints (e.g. `MaxNorm`).

    Args:
      model: Built Keras model, created under `strategy.scope()`.
      optimizer: tf_keras optimizer (not `keras.optimizers.legacy`), created
        under `strategy.scope()`.
      loss_fn: `loss_fn(labels, predictions)` returning one loss per example,
        e.g. `keras.losses.BinaryCrossentropy(reduction=keras.losses.Reduction.NONE)`.
        Regularization losses (`model.losses`) are added to it.
      metrics_factory: Returns fresh metrics; called twice under the scope, once
        for training and once for validation. Their names key the history.
      train_ds: One epoch of (features, label) batches of the global batch size.
      eval_ds: One epoch of validation (features, label) batches.
      strategy: Distribution strategy the model and optimizer belong to.
      epochs: Most epochs to train.
      early_stopping_patience: Epochs without a lower `val_loss` before
        training stops.
      clip_norm: Clip the summed gradients to this global norm. Defaults to
        None (no clipping).
      clip_value: Clip each summed gradient element to [-clip_value,
        clip_value]. Defaults to None (no clipping).
      log_dir: Directory for TensorBoard event files (`train/`, `validation/`):
        per-epoch loss, metrics and learning rate, and per-variable weight norms
        (at the end of the epoch) and gradient norms (before clipping, averaged
        over the epoch's steps). Defaults to None (no logging).
      on_epoch_end: Called as `on_epoch_end(epoch, logs)` after each epoch, with
        the 0-based epoch and that epoch's history values. Defaults to None.
      on_step_begin: Called with no arguments before every training step
        (e.g. to record the rate the step will use). Defaults to None.

    Returns:
      History: one float per epoch trained under "loss", each metric name,
      "val_loss", "val_<metric name>" and "lr" (the rate the next step uses).
      The model holds the weights of the epoch with the lowest `val_loss`.

    Raises:
      TypeError: `optimizer` is not a tf_keras optimizer.
      ValueError: an argument is out of range, `loss_fn` reduces its loss, the
        model or optimizer was created outside `strategy.scope()`, metric names
        clash, or a dataset yields no batch.
    """
    _check_arguments(model, optimizer, loss_fn, strategy, epochs, early_stopping_patience)
    clip_gradients([], clip_norm, clip_value)  # fails early on bad limits
    with strategy.scope():
        train_metrics = list(metrics_factory())
        val_metrics = list(metrics_factory())
    metric_names = _metric_names(train_metrics, val_metrics)
    keys = [LOSS, *metric_names]
    keys += [VALIDATION_PREFIX + k for k in keys] + [LEARNING_RATE]
    history: dict[str, list[float]] = {k: [] for k in keys}
    variable_names = [_tag_name(v) for v in model.trainable_variables]

    train_step = _make_train_step(
        model, optimizer, loss_fn, train_metrics, strategy, clip_norm, clip_value
    )
    eval_step = _make_eval_step(model, loss_fn, val_metrics, strategy)
    train_batches = strategy.experimental_distribute_dataset(train_ds)
    eval_batches = strategy.experimental_distribute_dataset(eval_ds)
    writers = _SummaryWriters(log_dir) if log_dir else None

    best_val_loss, best_weights, best_epoch, epochs_without_improvement = math.inf, None, -1, 0
    try:
        for epoch in range(epochs):
            for metric in train_metrics + val_metrics:
                metric.reset_state()
            loss, grad_norms = _run_epoch(train_step, train_batches, "train_ds", on_step_begin)
            val_loss, _ = _run_epoch(eval_step, eval_batches, "eval_ds")
            logs = {LOSS: loss, **{m.name: float(m.result()) for m in train_metrics}}
            logs[VALIDATION_PREFIX + LOSS] = val_loss
            logs.update({VALIDATION_PREFIX + m.name: float(m.result()) for m in val_metrics})
            logs[LEARNING_RATE] = current_learning_rate(optimizer)
            for key in keys:
                history[key].append(logs[key])
            if writers:
                weight_norms = [float(np.linalg.norm(v.numpy())) for v in model.trainable_variables]
                writers.write(
                    epoch,
                    logs,
                    metric_names,
                    dict(zip(variable_names, weight_norms, strict=True)),
                    dict(zip(variable_names, grad_norms, strict=True)),
                )
            if on_epoch_end is not None:
                on_epoch_end(epoch, dict(logs))
            # A NaN val_loss is never `<`, so it counts as no improvement.
            if val_loss < best_val_loss:
                best_val_loss, best_epoch, epochs_without_improvement = val_loss, epoch, 0
                best_weights = model.get_weights()
            else:
                epochs_without_improvement += 1
                if epochs_without_improvement >= early_stopping_patience:
                    break
    finally:
        if writers:
            writers.close()
    if best_weights is not None and best_epoch != len(history[LOSS]) - 1:
        model.set_weights(best_weights)
    return history


def _check_arguments(model, optimizer, loss_fn, strategy, epochs, patience) -> None:
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            f"optimizer must be a tf_keras optimizer (keras.optimizers.*), got "
            f"{type(optimizer).__name__}; legacy optimizers are not supported."
        )
    reduction = getattr(loss_fn, "reduction", keras.losses.Reduction.NONE)
    if isinstance(loss_fn, keras.losses.Loss) and reduction != keras.losses.Reduction.NONE:
        raise ValueError(
            f"loss_fn {type(loss_fn).__name__} reduces with {reduction!r}; the loop needs one "
            "loss per example to scale by the global batch: pass "
            "reduction=keras.losses.Reduction.NONE."
        )
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}.")
    if patience < 0:
        raise ValueError(f"early_stopping_patience must be at least 0, got {patience}.")
    outside = [
        v.name
        for v in [*model.variables, optimizer.iterations]
        if not strategy.extended.variable_created_in_scope(v)
    ]
    if outside:
        raise ValueError(
            f"Variables {outside[:3]} were created outside the strategy's scope: build the "
            f"model and the optimizer inside `with strategy.scope():`."
        )


def _metric_names(train_metrics, val_metrics) -> list[str]:
    names = [m.name for m in train_metrics]
    reserved = {LOSS, LEARNING_RATE}
    if len(set(names)) != len(names) or reserved & set(names):
        raise ValueError(
            f"Metric names {names} must be unique and not {sorted(reserved)}: "
            "give each metric a distinct `name=`."
        )
    if [m.name for m in val_metrics] != names:
        raise ValueError("metrics_factory must return metrics with the same names on every call.")
    return names


def _tag_name(variable: tf.Variable) -> str:
    # "hidden_0/kernel:0" -> "hidden_0/kernel": the output index means nothing here.
    return variable.name.split(":")[0]


def _global_batch_size(labels: tf.Tensor) -> tf.Tensor:
    # The examples of this step on all replicas, counted rather than assumed:
    # the last batch of an epoch may be short and split unevenly. Summed as a
    # float since cross-device reductions of integers are not supported on
    # every device; `compute_average_loss` wants an integer.
    local = tf.cast(tf.shape(labels)[0], tf.float32)
    total = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, local)
    return tf.cast(tf.round(total), tf.int32)


def _scaled_loss(model, loss_fn, labels, predictions, global_batch) -> tf.Tensor:
    # Summed over replicas, this is the global batch's mean loss plus the
    # regularization loss once.
    loss = tf.nn.compute_average_loss(loss_fn(labels, predictions), global_batch_size=global_batch)
    if model.losses:
        loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
    return loss


def _make_train_step(model, optimizer, loss_fn, metrics, strategy, clip_norm, clip_value):
    def replica_step(features, labels):
        global_batch = _global_batch_size(labels)
        with tf.GradientTape() as tape:
            predictions = model(features, training=True)
            loss = _scaled_loss(model, loss_fn, labels, predictions, global_batch)
        variables = model.trainable_variables
        grads = tape.gradient(loss, variables)
        present = [i for i, g in enumerate(grads) if g is not None]
        # Sum across replicas *before* clipping so every replica clips (and
        # applies) the same full-batch gradient, as the optimizer would.
        summed = tf.distribute.get_replica_context().all_reduce(
            tf.distribute.ReduceOp.SUM, [grads[i] for i in present]
        )
        norm_of = dict(zip(present, (tf.linalg.global_norm([g]) for g in summed), strict=True))
        # A variable the loss does not reach has no gradient: norm 0.
        norms = tf.stack([norm_of.get(i, 0.0) for i in range(len(variables))])
        clipped = clip_gradients(summed, clip_norm, clip_value)
        # tf_keras 2.16's Optimizer.apply_gradients assigns `v.constraint(v)` to
        # every variable after the update (optimizer.py, "Apply variable
        # constraints after applying gradients"), so constraints are not applied
        # again here: a second pass would shrink MaxNorm'd weights by another
        # epsilon and run non-idempotent constraints twice.
        optimizer.apply_gradients(
            zip(clipped, [variables[i] for i in present], strict=True),
            skip_gradients_aggregation=True,
        )
        for metric in metrics:
            metric.update_state(labels, predictions)
        return loss, norms, tf.cast(global_batch, tf.float32)

    return _distributed(replica_step, strategy)


def _make_eval_step(model, loss_fn, metrics, strategy):
    def replica_step(features, labels):
        global_batch = _global_batch_size(labels)
        predictions = model(features, training=False)
        loss = _scaled_loss(model, loss_fn, labels, predictions, global_batch)
        for metric in metrics:
            metric.update_state(labels, predictions)
        return loss, tf.zeros([0]), tf.cast(global_batch, tf.float32)

    return _distributed(replica_step, strategy)


def _distributed(replica_step, strategy):
    # No AutoGraph: the step has no tensor-dependent Python control flow, and
    # converting every layer's source costs seconds per trace (see
    # model.skip_autograph). reduce_retracing: a short last batch reuses the graph.
    @tf.function(autograph=False, reduce_retracing=True)
    def step(batch):
        features, labels = batch
        loss, norms, global_batch = strategy.run(replica_step, args=(features, labels))
        # Norms and batch size are the same on every replica (computed from
        # all-reduced values), so MEAN just picks that value.
        return (
            strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None),
            strategy.reduce(tf.distribute.ReduceOp.MEAN, norms, axis=None),
            strategy.reduce(tf.distribute.ReduceOp.MEAN, global_batch, axis=None),
        )

    return step


def _run_epoch(step, batches, dataset_name, before_step=None) -> tuple[float, list[float]]:
    """Runs `step` over one epoch; returns the example-weighted mean loss and mean norms."""
    loss_sum, examples, norm_sum, steps = 0.0, 0.0, 0.0, 0
    for batch in batches:
        if before_step is not None:
            before_step()
        # Kept as tensors until the epoch ends, so steps do not wait on the host.
        loss, norms, global_batch = step(batch)
        loss_sum += loss * global_batch
        examples += global_batch
        norm_sum += norms
        steps += 1
    if steps == 0:
        raise ValueError(f"{dataset_name} yielded no batches; check its files and batch size.")
    return float(loss_sum / examples), [float(n) for n in np.atleast_1d(norm_sum / steps)]


class _SummaryWriters:
    """TensorBoard writers of one run: `train/` and `validation/` under `log_dir`."""

    def __init__(self, log_dir: str):
        self.train = tf.summary.create_file_writer(os.path.join(log_dir, TRAIN_WRITER))
        self.validation = tf.summary.create_file_writer(os.path.join(log_dir, VALIDATION_WRITER))

    def write(self, epoch, logs, metric_names, weight_norms, gradient_norms) -> None:
        with self.train.as_default(step=epoch):
            for key in [LOSS, *metric_names]:
                tf.summary.scalar(EPOCH_TAG + key, logs[key])
            tf.summary.scalar(EPOCH_TAG + "learning_rate", logs[LEARNING_RATE])
            for name, norm in weight_norms.items():
                tf.summary.scalar(WEIGHT_NORM_TAG + name, norm)
            for name, norm in gradient_norms.items():
                tf.summary.scalar(GRADIENT_NORM_TAG + name, norm)
        with self.validation.as_default(step=epoch):
            for key in [LOSS, *metric_names]:
                tf.summary.scalar(EPOCH_TAG + key, logs[VALIDATION_PREFIX + key])

    def close(self) -> None:
        self.train.close()
        self.validation.close()
