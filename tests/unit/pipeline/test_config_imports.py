"""`pipeline.config` (and the contracts) import without TensorFlow, TFMA, TFX or tf_keras."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("tensorflow", "tensorflow_model_analysis", "tfx", "tf_keras")


@pytest.mark.parametrize("module", ["pipeline.config", "pipeline.contracts"])
def test_importing_loads_no_tensorflow_tfma_tfx_or_tf_keras(module):
    # A fresh interpreter: this one has imported TensorFlow for other tests.
    code = f"import sys, {module}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[]"
