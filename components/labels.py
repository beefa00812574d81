"""What a model predicts: the label, read from a column or derived from two, and its task.

The feature registry (`components.features`) holds one; Transform makes the
label from it and the Trainer picks its head by `Task`.
"""

from __future__ import annotations

import dataclasses
import enum


class Task(str, enum.Enum):
    """What the model predicts, which decides its output layer, loss and metrics."""

    BINARY = "binary"  # one probability: P(positive)
    MULTICLASS = "multiclass"  # one probability per class
    REGRESSION = "regression"  # one real number


@dataclasses.dataclass(frozen=True)
class BinaryLabel:
    """A binary label derived from two numeric raw columns: numerator > ratio * denominator.

    For the taxi data this is the TFX convention "big tipper": tips > 0.2 * fare.
    A missing numerator counts as 0; a missing denominator as 0.
    """

    name: str
    numerator: str
    denominator: str
    ratio: float

    task = Task.BINARY
    classes: tuple[str, ...] = ()

    @property
    def source_columns(self) -> tuple[str, ...]:
        return (self.numerator, self.denominator)

    @property
    def derived(self) -> bool:
        return True


@dataclasses.dataclass(frozen=True)
class ColumnLabel:
    """A label read from a raw column of the same name.

    Attributes:
      name: The raw column.
      task: binary, multiclass or regression.
      classes: The class values, in the order of their ids. Binary: () when
        the column holds 0 / 1, else [negative, positive]; multiclass: every
        class (2 or more); regression: ().
    """

    name: str
    task: Task
    classes: tuple[str, ...] = ()

    def __post_init__(self):
        if self.task is Task.MULTICLASS and len(self.classes) < 2:
            raise ValueError(f"Label {self.name!r}: a multiclass label needs 2 or more classes.")
        if self.task is Task.BINARY and len(self.classes) not in (0, 2):
            raise ValueError(f"Label {self.name!r}: a binary label has 0 or 2 classes.")
        if self.task is Task.REGRESSION and self.classes:
            raise ValueError(f"Label {self.name!r}: a regression label has no classes.")

    @property
    def source_columns(self) -> tuple[str, ...]:
        return (self.name,)

    @property
    def derived(self) -> bool:
        return False


Label = BinaryLabel | ColumnLabel
