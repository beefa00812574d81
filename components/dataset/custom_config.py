"""The data set spec inside a TFX component's parameters (its `custom_config`).

The spec travels as plain data, not as a path: the components may run on
other machines (Vertex, Dataflow), and a changed spec changes the component's
parameters, so TFX does not reuse a result made with the old one.
"""

from __future__ import annotations

from collections.abc import Mapping

from components.dataset.dumping import spec_to_dict
from components.dataset.model import DatasetSpec
from components.dataset.parsing import parse_spec
from pipeline.contracts import SPEC_KEY, SPEC_ORIGIN_KEY


def to_custom_config(spec: DatasetSpec) -> dict:
    """The spec as `custom_config` entries of the components that need it (Transform, Trainer).

    Its origin is shortened to `<folder>/<file>`: a machine-independent name for
    messages (a compiled pipeline holds no path of the machine it was compiled on).
    Its blessing bars (`evaluation`) and drift thresholds (`drift`) are left out: they reach
    the Evaluator and the drift check in their own parameters, and a changed bar must not
    make Transform and the Trainer run again.
    """
    origin = "/".join(spec.origin.replace("\\", "/").split("/")[-2:])
    data = {k: v for k, v in spec_to_dict(spec).items() if k not in ("evaluation", "drift")}
    return {SPEC_KEY: data, SPEC_ORIGIN_KEY: origin}


def spec_from_custom_config(custom_config: Mapping | None) -> DatasetSpec:
    """The spec in a component's `custom_config` (put there with `to_custom_config`).

    Raises:
      ValueError: `custom_config` carries no spec.
      SpecError: the spec is not valid.
    """
    if not custom_config or SPEC_KEY not in custom_config:
        raise ValueError(
            "The component's custom_config has no data set spec: build the pipeline with "
            "pipeline.create_pipeline, which passes it (components.dataset.to_custom_config)."
        )
    return parse_spec(custom_config[SPEC_KEY], custom_config.get(SPEC_ORIGIN_KEY) or "<spec>")
