"""Warm start: continue from the live model instead of from random weights.

The recipe for reusing a trained network's layers (Hands-On ML, ch. 11): copy
every layer whose weights still fit the new model (a vocabulary that grew
changes an embedding's shape, so that one starts fresh), train a few epochs
with the copied layers frozen so the fresh ones do not wreck them with large
early gradients, then unfreeze everything and go on at a lower learning rate.

The live model may be any family's: the deep network itself, an ensemble with the deep
network inside it (its layers are copied from there), or gradient-boosted trees alone
(nothing to copy: the network trains from scratch).
"""

from __future__ import annotations

import logging

import tf_keras as keras

from components import serving_ops
from components.trainer.heads import OUTPUT_LAYERS
from components.trainer.model import DNN_NAME

logger = logging.getLogger(__name__)


def transfer_weights(target: keras.Model, base_model_dir: str) -> list[str]:
    """Copies weights from the SavedModel at `base_model_dir` into `target`, layer by layer.

    A layer is copied when the base model's deep network (the base model itself, or the
    deep network nested in an ensemble) has a layer of the same name whose weights have
    the same shapes; the output layer is never copied (`heads.OUTPUT_LAYERS`). A base
    model without a deep network (trees alone) gives nothing to copy.

    Returns:
      Names of the layers copied, in `target`'s order (empty when nothing fits).
    """
    serving_ops.register()  # the base model may hold TF-DF trees
    base = keras.models.load_model(base_model_dir, compile=False)
    network = deep_network_in(base)
    if network is None:
        logger.info(
            "Warm start from %s: it holds no deep network (%s), so none of its layers can be "
            "reused; the network trains from scratch.",
            base_model_dir,
            base.name,
        )
        return []
    return copy_matching_layers(target, network, base_model_dir)


def copy_matching_layers(target: keras.Model, base: keras.Model, origin: str) -> list[str]:
    """Copies the weights of `base`'s layers into `target`'s of the same name and shapes.

    The output layer is never copied (`heads.OUTPUT_LAYERS`). `origin` names the base
    model in the log.

    Returns:
      Names of the layers copied, in `target`'s order.
    """
    sources = {layer.name: layer for layer in base.layers}
    copied = []
    for layer in target.layers:
        source = sources.get(layer.name)
        if layer.name in OUTPUT_LAYERS or source is None or not layer.weights:
            continue
        weights = source.get_weights()
        if [w.shape for w in weights] == [w.shape for w in layer.get_weights()]:
            layer.set_weights(weights)
            copied.append(layer.name)
    skipped = [layer.name for layer in target.layers if layer.weights and layer.name not in copied]
    logger.info(
        "Warm start from %s: %d layer(s) reused; trained fresh: %s.",
        origin,
        len(copied),
        ", ".join(skipped) or "none",
    )
    return copied


def deep_network_in(model: keras.Model) -> keras.Model | None:
    """`model` if it is the deep network, else the first deep network nested in it, or None."""
    if model.name == DNN_NAME:
        return model
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found = deep_network_in(layer)
            if found is not None:
                return found
    return None


def set_trainable(model: keras.Model, layer_names: list[str], trainable: bool) -> None:
    """Freezes or unfreezes the named layers (recompile afterwards for it to apply)."""
    for name in layer_names:
        model.get_layer(name).trainable = trainable
