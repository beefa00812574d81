"""What the drift check compares and how strictly: each column's measure, each threshold with
where it came from, and what drift does to the run. TF-free, so the run configuration holds it.

A threshold comes from exactly one place, the first that sets it: the command line, the spec's
`drift:` section, or the default (`components.dataset.drift_spec`). The measure of a column
follows the type its values are written with (the curated schema's, else the spec's): the
L-infinity distance of the value frequencies for text values, the Jensen–Shannon divergence of
the histograms for numbers (integer ids included: their statistics are histograms).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping

from components.dataset import DatasetSpec
from components.dataset.drift_spec import (
    DEFAULT_CATEGORICAL_THRESHOLD,
    DEFAULT_NUMERIC_THRESHOLD,
    DriftAction,
)

# The command-line options that override the spec (`pipeline.tunable_arguments`).
NUMERIC_OPTION = "--numeric-drift-threshold"
CATEGORICAL_OPTION = "--categorical-drift-threshold"
WARN_OPTION = "--drift-warn-only"
NUMERIC_SPEC_KEY = "drift.numeric_threshold"
CATEGORICAL_SPEC_KEY = "drift.categorical_threshold"
ACTION_SPEC_KEY = "drift.on_drift"


class Measure(str, enum.Enum):
    """How two distributions of one column are compared (TFDV's drift comparators)."""

    JENSEN_SHANNON = "jensen_shannon_divergence"
    L_INFINITY = "l_infinity"

    @property
    def words(self) -> str:
        return {
            Measure.JENSEN_SHANNON: "Jensen–Shannon divergence",
            Measure.L_INFINITY: "L-infinity distance",
        }[self]


@dataclasses.dataclass(frozen=True)
class Threshold:
    """A drift threshold and where it came from, as messages name it.

    Attributes:
      value: The largest distance that is not drift.
      source: Where `value` was set, e.g. "spec: drift.numeric_threshold", or "default;
        spec: drift.numeric_threshold" (the key that would set it).
    """

    value: float
    source: str


@dataclasses.dataclass(frozen=True)
class DriftCheck:
    """The drift check of a run.

    Attributes:
      columns: Each compared column and its measure, in the spec's order. Defaults to ():
        nothing is compared.
      numeric: The Jensen–Shannon divergence threshold. Defaults to the spec's default.
      categorical: The L-infinity distance threshold. Defaults to the spec's default.
      action: What drift does to the run. Defaults to `DriftAction.STOP`.
      action_source: Where `action` was set, for messages. Defaults to "default".
    """

    columns: tuple[tuple[str, Measure], ...] = ()
    numeric: Threshold = Threshold(DEFAULT_NUMERIC_THRESHOLD, f"default; spec: {NUMERIC_SPEC_KEY}")
    categorical: Threshold = Threshold(
        DEFAULT_CATEGORICAL_THRESHOLD, f"default; spec: {CATEGORICAL_SPEC_KEY}"
    )
    action: DriftAction = DriftAction.STOP
    action_source: str = "default"

    def threshold(self, measure: Measure) -> Threshold:
        """The threshold that applies to `measure`."""
        return self.numeric if measure is Measure.JENSEN_SHANNON else self.categorical

    def to_json(self) -> str:
        """The check as JSON text (a component parameter); `from_json` inverts it."""
        data = dataclasses.asdict(self)
        data["columns"] = [[name, measure.value] for name, measure in self.columns]
        data["action"] = self.action.value
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DriftCheck:
        """The check `to_json` wrote."""
        data = json.loads(text)
        return cls(
            columns=tuple((name, Measure(measure)) for name, measure in data["columns"]),
            numeric=Threshold(**data["numeric"]),
            categorical=Threshold(**data["categorical"]),
            action=DriftAction(data["action"]),
            action_source=data["action_source"],
        )


def _threshold(option_value, spec_value, default: float, option: str, key: str) -> Threshold:
    if option_value is not None:
        return Threshold(float(option_value), option)
    if spec_value is not None:
        return Threshold(spec_value, f"spec: {key}")
    return Threshold(default, f"default; spec: {key}")


def resolve_drift_check(
    spec: DatasetSpec,
    column_types: Mapping[str, str],
    numeric_threshold: float | None = None,
    categorical_threshold: float | None = None,
    warn_only: bool = False,
) -> DriftCheck:
    """The drift check of a run of `spec`, with the command line's overrides.

    Args:
      spec: The data set spec (its `drift:` section and its model inputs).
      column_types: Column -> the type its values are written with ("int", "float" or
        "string"): the curated schema's, else the spec's.
      numeric_threshold: `--numeric-drift-threshold`; None: the spec's, else the default.
        Defaults to None.
      categorical_threshold: `--categorical-drift-threshold`; None: the spec's, else the
        default. Defaults to None.
      warn_only: `--drift-warn-only`: drift only warns, whatever the spec says. Defaults
        to False.

    Returns:
      The check: every numeric and categorical model input is compared (text and images
      are not).

    Raises:
      ValueError: a threshold given on the command line is not in (0, 1].
    """
    for option, value in (
        (NUMERIC_OPTION, numeric_threshold),
        (CATEGORICAL_OPTION, categorical_threshold),
    ):
        if value is not None and not 0 < value <= 1:
            raise ValueError(
                f"{option} {value}: a drift threshold is a distance between two "
                "distributions, above 0 and at most 1 (e.g. 0.1)."
            )
    drift = spec.drift
    columns = tuple(
        (
            feature.name,
            Measure.L_INFINITY
            if column_types.get(feature.name, feature.raw_type) == "string"
            else Measure.JENSEN_SHANNON,
        )
        for feature in (*spec.numeric, *spec.categorical)
    )
    if warn_only:
        action, action_source = DriftAction.WARN, WARN_OPTION
    elif drift.on_drift is DriftAction.WARN:
        action, action_source = DriftAction.WARN, f"spec: {ACTION_SPEC_KEY}"
    else:
        action, action_source = DriftAction.STOP, f"default; spec: {ACTION_SPEC_KEY}"
    return DriftCheck(
        columns=columns,
        numeric=_threshold(
            numeric_threshold,
            drift.numeric_threshold,
            DEFAULT_NUMERIC_THRESHOLD,
            NUMERIC_OPTION,
            NUMERIC_SPEC_KEY,
        ),
        categorical=_threshold(
            categorical_threshold,
            drift.categorical_threshold,
            DEFAULT_CATEGORICAL_THRESHOLD,
            CATEGORICAL_OPTION,
            CATEGORICAL_SPEC_KEY,
        ),
        action=action,
        action_source=action_source,
    )
