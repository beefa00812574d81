"""Folds batch normalization into the neighbouring dense layers of a serving model.

At inference a BatchNormalization layer is a fixed per-channel affine map,
y = s * x + t with s = gamma / sqrt(moving_variance + epsilon) and
t = beta - moving_mean * s, so it can be merged into a linear Dense layer:

  Dense -> BN (BN after a linear Dense; the placement `model.py` builds):
    kernel' = kernel * s (per output column), bias' = bias * s + t.
  BN -> Dense (the BN output feeds a Dense directly):
    kernel' = s[:, None] * kernel (per input row), bias' = bias + t @ kernel.

Either way the serving graph loses one layer and its four vectors per hidden
block, and predictions agree to float rounding. The folded model is for
inference only: it no longer normalizes with batch statistics when trained.

BN layers that fit neither pattern stay in place, notably BN after an
activation followed by Dropout (Dense -> Activation -> BN -> Dropout -> Dense).
Dropout is the identity at inference, but folding BN past it would stop the
shift `t` from being dropped, which changes MC-dropout predictions
(`mc_dropout.py`), so it is not done.

How: the model's functional config (public `get_config`) lists every layer
with its inbound tensor references `[layer_name, node_index, tensor_index,
kwargs]`. A folded BN's entry is dropped and the references to its output are
pointed at its input instead; `keras.Model.from_config` rebuilds the graph with
dict inputs, embeddings and concatenations as they were, and every layer then
gets its weights back by name (folded Dense layers get the merged ones).
Custom layers must therefore be serializable (registered, with `get_config`).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import numpy as np
import tf_keras as keras

logger = logging.getLogger(__name__)


def count_batch_norm(model: keras.Model) -> int:
    """Number of BatchNormalization layers in `model`, nested models included."""
    return sum(isinstance(m, keras.layers.BatchNormalization) for m in model.submodules)


def fold_batch_norm(model: keras.Model) -> keras.Model:
    """Returns an uncompiled copy of `model` with foldable batch norms merged into Dense layers.

    The copy has the same inputs (names and structure) and outputs. `model` is
    left as it is; the copy's layers are new objects holding copies of its
    weights. Which BN layers fold is described in the module docstring.

    Args:
      model: A functional (or Sequential) Keras model, e.g. `build_model`'s.

    Returns:
      The folded model. Check `count_batch_norm` on it for layers left unfolded.

    Raises:
      ValueError: `model` is a subclassed model, whose graph cannot be rebuilt.
    """
    if isinstance(model, keras.Sequential):
        # A Sequential model's config is a plain layer list; a functional view
        # over the same layers has the graph config this function edits.
        model = keras.Model(model.inputs, model.outputs, name=model.name)
    try:
        config = copy.deepcopy(model.get_config())
    except NotImplementedError as error:
        raise ValueError(
            f"Cannot fold batch norm in {model.name!r}: it is a subclassed model without a "
            "graph config. Build it with the functional API."
        ) from error
    if not {"layers", "input_layers", "output_layers"} <= set(config):
        raise ValueError(
            f"Cannot fold batch norm in {model.name!r}: it is not a functional model. "
            "Build it with the functional API."
        )

    live = {layer.name: layer for layer in model.layers}
    weights = {name: layer.get_weights() for name, layer in live.items()}
    folded = []
    while (step := _next_fold(config, live)) is not None:
        bn_name, dense_name, direction = step
        _apply_fold(config, weights, live[bn_name], dense_name, direction)
        folded.append(bn_name)

    rebuilt = keras.Model.from_config(config)
    for layer in rebuilt.layers:
        if layer.name in weights:
            layer.set_weights(weights[layer.name])
    logger.info(
        "Folded %d batch norm layer(s) of %s into dense layers (%s); %d left unfolded.",
        len(folded),
        model.name,
        ", ".join(folded) or "none",
        count_batch_norm(rebuilt),
    )
    return rebuilt


def _is_ref(value: Any) -> bool:
    """True for a config tensor reference `[layer_name, node_index, tensor_index(, kwargs)]`."""
    return (
        isinstance(value, list)
        and len(value) in (3, 4)
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and isinstance(value[2], int)
    )


def _refs(structure: Any, name: str | None = None) -> list[list]:
    """Tensor references inside a config structure (to layer `name` only, if given).

    Non-first call arguments that are tensors (e.g. a `mask`) are serialized
    as references inside a reference's kwargs, so those are searched too.
    """
    found = []
    if _is_ref(structure):
        if name is None or structure[0] == name:
            found.append(structure)
        if len(structure) == 4:
            found += _refs(structure[3], name)
    elif isinstance(structure, list | tuple):
        for item in structure:
            found += _refs(item, name)
    elif isinstance(structure, dict):
        for item in structure.values():
            found += _refs(item, name)
    return found


def _consumers(config: dict, name: str) -> list[tuple[str | None, list]]:
    """(consuming layer name, reference) for every use of `name`'s output; None = model output."""
    uses = [
        (entry["name"], ref)
        for entry in config["layers"]
        for ref in _refs(entry["inbound_nodes"], name)
    ]
    return uses + [(None, ref) for ref in _refs(config["output_layers"], name)]


def _single_input(entry: dict) -> list | None:
    """The only tensor reference of a layer called once on one tensor, else None."""
    if len(entry["inbound_nodes"]) != 1:
        return None
    refs = _refs(entry["inbound_nodes"])
    return refs[0] if len(refs) == 1 else None


def _is_plain_dense(layer: keras.layers.Layer | None) -> bool:
    # Subclasses may change `call`, so only the built-in Dense is trusted to be x @ kernel + bias.
    return type(layer) is keras.layers.Dense


def _is_foldable_bn(layer: keras.layers.Layer | None) -> bool:
    # Renorm, ghost batches and adjustments change the inference formula; the
    # affine map must act on the last axis, the one a Dense kernel maps.
    return (
        isinstance(layer, keras.layers.BatchNormalization)
        and not layer.renorm
        and layer.virtual_batch_size is None
        and layer.adjustment is None
        and layer.input_spec is not None
        and layer.axis == [layer.input_spec.ndim - 1]
    )


def _next_fold(config: dict, live: dict) -> tuple[str, str, str] | None:
    """(bn name, dense name, "into_previous" | "into_next") of the next fold, or None."""
    entries = {entry["name"]: entry for entry in config["layers"]}
    for name, entry in entries.items():
        if not _is_foldable_bn(live.get(name)):
            continue
        source = _single_input(entry)
        if source is None:
            continue
        previous = live.get(source[0])
        # The Dense's pre-BN output must be seen by nothing but this BN, and a
        # Dense called twice (shared) would carry one BN's scale into the other call.
        if (
            _is_plain_dense(previous)
            and previous.activation is keras.activations.linear
            and len(entries[source[0]]["inbound_nodes"]) == 1
            and len(_consumers(config, source[0])) == 1
        ):
            return name, source[0], "into_previous"
        uses = _consumers(config, name)
        if len(uses) == 1 and uses[0][0] is not None:
            consumer_name, ref = uses[0]
            consumer = entries[consumer_name]
            if _is_plain_dense(live.get(consumer_name)) and _single_input(consumer) is ref:
                return name, consumer_name, "into_next"
    return None


def _affine(bn: keras.layers.BatchNormalization) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) of the BN's inference map y = scale * x + shift, in float64."""
    mean = bn.moving_mean.numpy().astype(np.float64)
    variance = bn.moving_variance.numpy().astype(np.float64)
    gamma = np.ones_like(mean) if bn.gamma is None else bn.gamma.numpy().astype(np.float64)
    beta = np.zeros_like(mean) if bn.beta is None else bn.beta.numpy().astype(np.float64)
    scale = gamma / np.sqrt(variance + bn.epsilon)
    return scale, beta - mean * scale


def _apply_fold(
    config: dict,
    weights: dict[str, list[np.ndarray]],
    bn: keras.layers.BatchNormalization,
    dense_name: str,
    direction: str,
) -> None:
    """Merges `bn` into Dense `dense_name` (weights and config) and removes it from `config`."""
    entry = next(e for e in config["layers"] if e["name"] == dense_name)
    kernel, *rest = weights[dense_name]
    dtype = kernel.dtype
    kernel = kernel.astype(np.float64)
    bias = rest[0].astype(np.float64) if rest else np.zeros(kernel.shape[-1])
    scale, shift = _affine(bn)
    if direction == "into_previous":
        kernel, bias = kernel * scale, bias * scale + shift
    else:
        kernel, bias = kernel * scale[:, None], bias + shift @ kernel
    weights[dense_name] = [kernel.astype(dtype), bias.astype(dtype)]
    entry["config"]["use_bias"] = True

    bn_entry = next(e for e in config["layers"] if e["name"] == bn.name)
    source = _single_input(bn_entry)
    # References are mutable lists in the config: repoint them in place,
    # keeping any call kwargs a consumer passed.
    for _, ref in _consumers(config, bn.name):
        ref[:3] = source[:3]
    config["layers"].remove(bn_entry)
    weights.pop(bn.name, None)
