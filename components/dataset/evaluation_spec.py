"""The spec's `evaluation:` section: absolute blessing bars a data set's owner sets for it.

Without a bar, a metric is judged against the trivial model of the task (the
majority class, or the mean for regression): `components.blessing` resolves,
per metric, whether its bar comes from the command line, from here, or from
the trivial model, and `components.evaluation` makes TFMA thresholds of that.
"""

from __future__ import annotations

import dataclasses
import math

from components.dataset.errors import SpecError
from components.dataset.label import Task

# Which bars apply to which label kind.
BARS_BY_TASK: dict[Task, tuple[str, ...]] = {
    Task.BINARY: ("min_auc", "min_accuracy"),
    Task.MULTICLASS: ("min_accuracy",),
    Task.REGRESSION: ("max_rmse",),
}
# The share of the trivial model's error a candidate must remove when no bar is set.
DEFAULT_MIN_ERROR_REDUCTION = 0.05


@dataclasses.dataclass(frozen=True)
class EvaluationSpec:
    """Blessing bars on the test split, for this data set.

    Attributes:
      min_auc: Binary labels: the AUC the candidate must reach. None: beat
        chance (0.5) by `min_error_reduction` of its error. Defaults to None.
      min_accuracy: Binary and multiclass labels: the accuracy the candidate
        must reach. None: remove `min_error_reduction` of the majority-class
        predictor's error. Defaults to None.
      max_rmse: Regression labels: the root mean squared error the candidate
        must not exceed, in the label's units. None: at most (1 -
        `min_error_reduction`) times that of predicting the mean. Defaults to None.
      min_error_reduction: For a metric without an absolute bar, the share of
        the trivial model's error (1 - accuracy, 1 - AUC, or RMSE) the candidate
        must remove, in [0, 1). Defaults to 0.05.
    """

    min_auc: float | None = None
    min_accuracy: float | None = None
    max_rmse: float | None = None
    min_error_reduction: float = DEFAULT_MIN_ERROR_REDUCTION

    def __post_init__(self):
        for name in ("min_auc", "min_accuracy"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise SpecError(name, f"must be between 0 and 1, got {value}")
        if self.max_rmse is not None and not (math.isfinite(self.max_rmse) and self.max_rmse > 0):
            raise SpecError("max_rmse", f"must be a positive number, got {self.max_rmse}")
        if not 0 <= self.min_error_reduction < 1:
            raise SpecError(
                "min_error_reduction",
                f"must be at least 0 and below 1 (0.05: 5% less error than the trivial model), "
                f"got {self.min_error_reduction}",
            )

    def check_task(self, task: Task) -> None:
        """Bars of another label kind would be silently ignored: refuse them.

        Raises:
          SpecError: a bar set here does not apply to `task`.
        """
        allowed = BARS_BY_TASK[task]
        for name in ("min_auc", "min_accuracy", "max_rmse"):
            if getattr(self, name) is not None and name not in allowed:
                raise SpecError(
                    name,
                    f"does not apply to a {task.value} label; its bars: {', '.join(allowed)}",
                )
