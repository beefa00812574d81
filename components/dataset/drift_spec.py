"""The spec's `drift:` section: how far this data set's data may move from the live model's.

From the second run on an output folder, validation compares the new data's statistics with
those of the data the live (pushed) model was trained on: Jensen–Shannon divergence for
numeric columns (and integer-valued categorical ones, whose statistics are histograms),
L-infinity distance of the value frequencies for string-valued categorical columns. A column
whose distance exceeds its threshold has drifted; by default that stops the run like any
anomaly, `on_drift: warn` lets it continue with a warning (for data whose drift is expected).

    drift:
      numeric_threshold: 0.3       # Jensen–Shannon divergence, in (0, 1]
      categorical_threshold: 0.1   # L-infinity distance of the value frequencies, in (0, 1]
      on_drift: stop               # or warn

Each default is written once, here; `components.drift.settings` resolves a threshold from
the command line, then this section, then the default, and says which one it used.
"""

from __future__ import annotations

import dataclasses
import enum

from components.dataset.errors import SpecError

# Measured over quantile buckets (`components.drift.executor`): two halves of the bundled taxi
# data differ by at most 0.21 in any numeric column (0.15 when shuffled first); a column ×2
# measures 0.33, ×100 0.93.
DEFAULT_NUMERIC_THRESHOLD = 0.3
# 0.1: a value's share of rows moved by ten percentage points (a new value in 10% of rows).
DEFAULT_CATEGORICAL_THRESHOLD = 0.1


class DriftAction(str, enum.Enum):
    STOP = "stop"  # drift stops the run like any anomaly (exit code 3)
    WARN = "warn"  # drift is reported as a warning; the run continues


@dataclasses.dataclass(frozen=True)
class DriftSpec:
    """Drift thresholds of this data set; None leaves a threshold at its default.

    Attributes:
      numeric_threshold: The Jensen–Shannon divergence beyond which a numeric (or
        integer-valued categorical) column has drifted, in (0, 1]. None: the default,
        `DEFAULT_NUMERIC_THRESHOLD` (0.3). Defaults to None.
      categorical_threshold: The L-infinity distance between the value frequencies beyond
        which a string-valued categorical column has drifted, in (0, 1]. None: the default,
        `DEFAULT_CATEGORICAL_THRESHOLD` (0.1). Defaults to None.
      on_drift: What drift does to a run: stop it (exit code 3) or only warn. Defaults to
        `DriftAction.STOP`.
    """

    numeric_threshold: float | None = None
    categorical_threshold: float | None = None
    on_drift: DriftAction = DriftAction.STOP

    def __post_init__(self):
        for name in ("numeric_threshold", "categorical_threshold"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= 1:
                raise SpecError(
                    name,
                    f"must be above 0 and at most 1 (a distance between two distributions), "
                    f"got {value}",
                )
