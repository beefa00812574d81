"""Bundled data sets, one folder each: the data, its spec (`spec.yaml`) and its provenance.

`deepline run --dataset NAME` runs the pipeline on `data/NAME/spec.yaml`.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
DEFAULT_DATASET = "taxi"


def dataset_names() -> tuple[str, ...]:
    """Names of the bundled data sets: the folders here with a `spec.yaml`."""
    return tuple(sorted(path.parent.name for path in DATA_DIR.glob("*/spec.yaml")))


def spec_path(name: str) -> Path:
    """Returns the spec file of bundled data set `name`.

    Raises:
      ValueError: no bundled data set has that name.
    """
    path = DATA_DIR / name / "spec.yaml"
    if not path.is_file():
        raise ValueError(
            f"There is no bundled data set {name!r}; the bundled ones are "
            f"{', '.join(dataset_names())}. Use --spec FILE for your own data."
        )
    return path
