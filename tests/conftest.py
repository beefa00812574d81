"""Shared test set-up. The Keras mode must be chosen before TensorFlow is imported."""

from pipeline import runtime

runtime.configure_environment()

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

TESTDATA = Path(__file__).parent / "testdata"
TAXI_CSV = Path(__file__).parent.parent / "data" / "taxi" / "data.csv"


@pytest.fixture
def taxi_rows() -> list[str]:
    """Header plus the first 40 data lines of the bundled taxi CSV."""
    with open(TAXI_CSV) as f:
        return [next(f).rstrip("\n") for _ in range(41)]
