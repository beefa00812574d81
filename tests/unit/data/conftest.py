"""Fixtures of the bundled CSV data set a test module names in its `DATASET` (a folder)."""

import csv
from typing import NamedTuple

import pytest

from components.dataset import load_spec


class Table(NamedTuple):
    """A CSV file: its header and rows of cells."""

    header: list[str]
    rows: list[list[str]]

    def column(self, name: str) -> list[str]:
        index = self.header.index(name)
        return [row[index] for row in self.rows]


@pytest.fixture(scope="module")
def spec(request):
    return load_spec(request.module.DATASET / "spec.yaml")


@pytest.fixture(scope="module")
def table(request) -> Table:
    with open(request.module.DATASET / "data.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return Table(rows[0], rows[1:])
