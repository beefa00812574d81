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

import ctypes
import os
from collections.abc import Callable
from typing import Any

# Yggdrasil Decision Forests' logging level for its C++ code: 0 prints nothing.
QUIET = 0
_YDF_LOGGING_LEVEL = "_ZN26yggdrasil_decision_forests7logging13logging_levelE"


def register() -> None:
    """Registers TF-DF's inference ops in this process (importing the package does it) and
    keeps its C++ library's info lines (loading a model, choosing an engine, unused
    hyperparameters) off the console: errors still raise in Python."""
    from tensorflow_decision_forests.tensorflow import cc_logging
    from tensorflow_decision_forests.tensorflow.ops import inference

    cc_logging.set_yggdrasil_logging_level(QUIET)  # the training ops' library
    # The inference ops are a library of their own with its own copy of the level and no
    # op to set it: it is an exported global, set here (already loaded, so dlopen returns
    # the same library). Left as it is if a TF-DF release renames it.
    library = ctypes.CDLL(os.path.join(os.path.dirname(inference.__file__), "inference.so"))
    try:
        ctypes.c_int.in_dll(library, _YDF_LOGGING_LEVEL).value = QUIET
    except ValueError:
        pass


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
