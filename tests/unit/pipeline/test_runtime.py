"""Every Deepline process trains with tf_keras: the mode is set before TensorFlow loads."""

import os
import subprocess
import sys


def _python(code, env_overrides):
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_configure_environment_selects_tf_keras_in_a_fresh_process():
    proc = _python(
        "from pipeline import runtime; runtime.configure_environment();"
        "import tensorflow as tf; print(tf.keras.__name__)",
        {"TF_USE_LEGACY_KERAS": "0"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-1].startswith("tf_keras")


def test_child_processes_inherit_the_mode():
    # Beam's multi-processing workers are child processes of the CLI.
    proc = _python(
        "from pipeline import runtime; runtime.configure_environment();"
        "import subprocess, sys;"
        "print(subprocess.run([sys.executable, '-c', 'import tensorflow as tf;"
        "print(tf.keras.__name__)'], capture_output=True, text=True).stdout)",
        {},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-1].startswith("tf_keras")


def test_too_late_is_an_error_not_a_silent_keras_3():
    proc = _python(
        "import tensorflow; from pipeline import runtime; runtime.configure_environment()",
        {},
    )
    assert proc.returncode != 0
    assert "TensorFlow was imported before" in proc.stderr


def test_installed_packages_are_scanned_once_per_process():
    proc = _python(
        "from importlib import metadata; from pipeline import runtime;"
        "runtime.configure_environment(); runtime.configure_environment();"
        "first = metadata.packages_distributions(); again = metadata.packages_distributions();"
        "print(first is again, metadata.packages_distributions.cache_info().misses,"
        " 'google' in first)",
        {},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    # Scanned once, though asked twice and set up twice; and a real scan (google-api-core's
    # own `google` namespace is in it).
    assert proc.stdout.split() == ["True", "1", "True"]
