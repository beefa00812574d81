"""Process set-up that must happen before TensorFlow is imported.

Deepline trains with tf_keras (Keras 2): TFX 1.16, TF Transform and TFMA
build and load Keras 2 models, and TF 2.16's default Keras 3 breaks them.
`TF_USE_LEGACY_KERAS=1` makes `tf.keras` mean tf_keras; it must be in the
environment before TensorFlow is first imported, in this process and in every
process it starts (Beam's multi-processing workers inherit it from here).
"""

from __future__ import annotations

import functools
import os
import sys
from importlib import metadata

REQUIRED_ENVIRONMENT = {"TF_USE_LEGACY_KERAS": "1"}
# TensorFlow's C++ start-up chatter (e.g. CUDA plugin registration on a CPU
# machine) in every Beam worker; errors still surface as Python exceptions.
# Beam's worker processes import google-cloud libraries that warn about Python 3.10 support.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore::FutureWarning"}


def configure_environment() -> None:
    """Sets the environment every Deepline process needs, and answers the installed-packages
    question once (`scan_installed_packages_once`).

    Raises:
      RuntimeError: TensorFlow was imported before with another Keras mode,
        too late to change it.
    """
    scan_installed_packages_once()
    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    changed = {k for k, v in REQUIRED_ENVIRONMENT.items() if os.environ.get(k) != v}
    os.environ.update(REQUIRED_ENVIRONMENT)
    if changed and "tensorflow" in sys.modules:
        raise RuntimeError(
            f"TensorFlow was imported before {sorted(changed)} could be set; "
            "call pipeline.runtime.configure_environment() first."
        )


def scan_installed_packages_once() -> None:
    """Keeps the first answer of `importlib.metadata.packages_distributions()` for the process.

    google-api-core 2.29 (imported with TFX's Google Cloud extensions, which every TFX import
    loads) asks it once per Google package it checks the Python version for, 15 times, and
    each call reads the metadata of every installed distribution: about 2 s of each
    `deepline` command's start-up on the reference machine (`import tfx.v1`, 14.4 s against
    12.4 s). The answer cannot change while nothing installs into the running process. The
    mapping is shared between callers: they read it (google-api-core does).
    """
    if not hasattr(metadata.packages_distributions, "cache_info"):
        metadata.packages_distributions = functools.lru_cache(maxsize=None)(
            metadata.packages_distributions
        )
