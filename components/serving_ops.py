"""Ops a served Deepline model may run beyond TensorFlow's own, registered before loading it.

A model with gradient-boosted trees in it (`--model gbdt`, or an ensemble) calls TensorFlow
Decision Forests' inference ops, which TensorFlow knows only once the
`tensorflow_decision_forests` package is imported in the process. Every place that loads a
served SavedModel calls `register()` first: the Evaluator (through
`components.evaluator_module`, in each Beam worker that loads a model), warm start, the
run report, tests. The Pusher copies files and loads nothing.

Outside Deepline, such a model needs TF Serving built with TF-DF's ops, or Python with the
`tensorflow_decision_forests` package imported (see the README).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def register() -> None:
    """Registers TF-DF's inference ops in this process (importing the package does it)."""
    import tensorflow_decision_forests  # noqa: F401


class WithServingOps:
    """A model constructor that registers the ops first, in whichever process it runs.

    Picklable by reference to this module, so a Beam worker that unpickles it and calls it
    registers the ops before loading the model.

    Args:
      construct_fn: Loads and returns the model.
    """

    def __init__(self, construct_fn: Callable[[], Any]):
        self.construct_fn = construct_fn

    def __call__(self) -> Any:
        register()
        return self.construct_fn()
