"""Writing a `DatasetSpec` back as YAML that `load_spec` reads to an equal spec.

Every feature is written on one line with its kind and transform; other
options only where they differ from their defaults, so that a dumped spec
stays as short as one written by hand. A column with nothing but a kind is
written in the short form `column: ignore`.
"""

from __future__ import annotations

import dataclasses
import enum

import yaml

from components.dataset.features import Feature
from components.dataset.model import DatasetSpec


class _Flow(dict):
    """A mapping written on one line: `{kind: numeric, transform: zscore}`."""


class _FlowList(list):
    """A list written on one line: `[payment_type, company]`."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else value


def feature_to_dict(feature: Feature) -> dict | str:
    """The YAML form of one feature: a mapping, or just its kind when nothing else is set.

    Args:
      feature: The feature spec.

    Returns:
      The feature's body under `features.<name>`.
    """
    body: dict = {"kind": feature.kind.value}
    for field in dataclasses.fields(feature):
        if field.name == "name":
            continue
        value = getattr(feature, field.name)
        if field.name == "transform" or value != field.default:
            body[field.name] = _plain(value)
    return body["kind"] if len(body) == 1 else _Flow(body)


def spec_to_dict(spec: DatasetSpec) -> dict:
    """The spec as plain data, in the order a person reads it; `parse_spec` inverts it.

    Args:
      spec: The data set spec.

    Returns:
      A dict of plain values (str, int, float, bool, lists, dicts; some of
      them marked to be written on one line, still plain dicts and lists).
    """
    data: dict = {}
    if spec.name:
        data["name"] = spec.name
    data["source"] = {
        field.name: _plain(getattr(spec.source, field.name))
        for field in dataclasses.fields(spec.source)
        if getattr(spec.source, field.name) != field.default
    }
    if spec.schema is not None:
        data["schema"] = spec.schema
    label = {"column": spec.label.column, "kind": spec.label.kind.value}
    if spec.label.derive is not None:
        label["derive"] = spec.label.derive.text
    if spec.label.classes:
        label["classes"] = _FlowList(spec.label.classes)
    data["label"] = label
    data["features"] = {f.name: feature_to_dict(f) for f in spec.features}
    if spec.slices:
        data["slices"] = _FlowList(spec.slices)
    split = {"train": spec.split.train, "eval": spec.split.eval, "test": spec.split.test}
    if spec.split.key is not None:
        split["key"] = spec.split.key
    data["split"] = split
    evaluation = {
        field.name: getattr(spec.evaluation, field.name)
        for field in dataclasses.fields(spec.evaluation)
        if getattr(spec.evaluation, field.name) != field.default
    }
    if evaluation:
        data["evaluation"] = evaluation
    drift = {
        field.name: _plain(getattr(spec.drift, field.name))
        for field in dataclasses.fields(spec.drift)
        if getattr(spec.drift, field.name) != field.default
    }
    if drift:
        data["drift"] = drift
    return data


def dump_spec(spec: DatasetSpec) -> str:
    """Writes the spec as YAML.

    Args:
      spec: The data set spec.

    Returns:
      YAML text; `load_spec` on it gives a spec equal to `spec`.
    """
    return yaml.dump(
        spec_to_dict(spec), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000
    )
