"""What a model predicts: the label, read from a column or derived from others, and its task.

The task decides the Trainer's head (output layer, loss, metrics) and the
Evaluator's metrics; Transform makes the label (`components.transform.label`).
"""

from __future__ import annotations

import dataclasses
import enum

from components.dataset.errors import SpecError
from components.dataset.expression import Expression


class Task(str, enum.Enum):
    """What the model predicts; the spec's `label.kind`."""

    BINARY = "binary"  # one probability: P(positive)
    MULTICLASS = "multiclass"  # one probability per class
    REGRESSION = "regression"  # one real number


@dataclasses.dataclass(frozen=True)
class LabelSpec:
    """What the model predicts.

    Attributes:
      column: The label's name: a raw column, or the new column `derive` makes.
      kind: binary, multiclass or regression.
      derive: binary only: a comparison over other columns that computes the
        label, e.g. `tips > 0.2 * fare`. Defaults to None (the column is in the data).
      classes: multiclass: the class values (2 or more); binary: optionally
        the [negative, positive] values. Defaults to ().
    """

    column: str
    kind: Task
    derive: Expression | None = None
    classes: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.column:
            raise SpecError("column", "must name the label column")
        if self.derive is not None:
            if self.kind is not Task.BINARY:
                raise SpecError(
                    "derive", f"only binary labels can be derived, not {self.kind.value}"
                )
            if not self.derive.is_comparison:
                raise SpecError(
                    "derive", f"{self.derive.text!r} must be a comparison, e.g. 'tips > 0.2 * fare'"
                )
        if len(set(self.classes)) != len(self.classes):
            raise SpecError("classes", f"lists a class twice: {list(self.classes)}")
        if self.kind is Task.MULTICLASS and len(self.classes) < 2:
            raise SpecError("classes", "a multiclass label needs its classes (2 or more)")
        if self.kind is Task.BINARY and len(self.classes) not in (0, 2):
            raise SpecError("classes", "a binary label has exactly 2 classes: [negative, positive]")
        if self.kind is Task.REGRESSION and self.classes:
            raise SpecError("classes", "a regression label has no classes")
        if self.derive is not None and self.classes:
            raise SpecError("classes", "a derived label is 0/1; remove classes")

    @property
    def derived(self) -> bool:
        """True when `derive` computes the label; False when it is read from `column`."""
        return self.derive is not None

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Raw columns the label is made from: those `derive` reads, else `column`."""
        return self.derive.columns if self.derive is not None else (self.column,)
