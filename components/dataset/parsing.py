"""Reading a data set spec: YAML text or a plain dict in, a validated `DatasetSpec` out.

Every error names the file, the line (for YAML files) and the YAML path of the
offending value, e.g. `spec.yaml:14: features.fare.transform: 'zscor' is not a
numeric transform; allowed: zscore, minmax, bucketize`. Duplicate keys, which
YAML loaders silently collapse, are reported with both lines.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
from collections.abc import Mapping
from typing import Any

import yaml

from components.dataset import features as fs
from components.dataset import options, yaml_errors
from components.dataset.drift_spec import DriftAction, DriftSpec
from components.dataset.errors import SpecError, join_path
from components.dataset.evaluation_spec import EvaluationSpec
from components.dataset.expression import ExpressionError, parse_expression
from components.dataset.label import LabelSpec, Task
from components.dataset.model import DatasetSpec
from components.dataset.source import SourceFormat, SourceSpec, SplitSpec

TOP_LEVEL_KEYS = (
    "name",
    "source",
    "schema",
    "label",
    "features",
    "slices",
    "split",
    "evaluation",
    "drift",
)


def load_spec(path: str | os.PathLike) -> DatasetSpec:
    """Reads and validates a YAML spec file.

    Args:
      path: The spec file.

    Returns:
      The spec; its `origin` is `path`.

    Raises:
      SpecError: The file is not valid YAML or not a valid spec; the message
        names the file, line and YAML path.
      OSError: The file cannot be read.
    """
    source = os.fspath(path)
    with open(source, encoding="utf-8") as f:
        text = f.read()
    data, lines = _compose(text, source)
    return _Reader(source, lines).dataset(data)


def parse_spec(data: Mapping[str, Any], source_name: str = "<spec>") -> DatasetSpec:
    """Validates a spec given as plain data (as `yaml.safe_load` returns it).

    Args:
      data: The spec.
      source_name: Names the spec in error messages and becomes its `origin`.

    Returns:
      The spec.

    Raises:
      SpecError: The data is not a valid spec; the message names the YAML path.
    """
    return _Reader(source_name, {}).dataset(data)


def _compose(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """Loads YAML into plain data, recording the line of every key and list item."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError("", "the file is empty; it needs source, label and features", source)
        lines: dict[str, int] = {}
        return _plain(loader, node, "", lines, source), lines
    except yaml.MarkedYAMLError as error:
        raise yaml_errors.explain(error, text, source) from None
    finally:
        loader.dispose()


def _plain(loader: yaml.SafeLoader, node, path: str, lines: dict[str, int], source: str):
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise SpecError(path, f"keys must be names, got {key!r}", source, line)
            child = join_path(path, key)
            if key in result:
                first = lines[child]
                raise SpecError(
                    child, f"declared twice (lines {first} and {line}); keep one", source, line
                )
            lines[child] = line
            result[key] = _plain(loader, value_node, child, lines, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            lines[child] = item.start_mark.line + 1
            items.append(_plain(loader, item, child, lines, source))
        return items
    return loader.construct_object(node, deep=True)


class _Reader:
    """Turns plain data into spec dataclasses, locating every error."""

    def __init__(self, source: str, lines: Mapping[str, int]):
        self.source = source
        self.lines = lines

    def error(self, path: str, problem: str) -> SpecError:
        return SpecError(path, problem, self.source, self._line(path))

    def _line(self, path: str) -> int | None:
        # A missing key has no line of its own: use the closest enclosing one.
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[: max(cut, 0)]
        return None

    def build(self, where: str, factory, /, **kwargs):
        """Calls a dataclass constructor, locating the SpecError it raises under `where`."""
        try:
            return factory(**kwargs)
        except SpecError as error:
            raise self.error(join_path(where, error.path), error.problem) from None

    # Plain values.

    def mapping(self, value, path: str, allowed, required=()) -> dict:
        if not isinstance(value, Mapping):
            raise self.error(path, f"must be a mapping with keys {', '.join(allowed)}")
        for key in value:
            if key not in allowed:
                raise self.error(
                    join_path(path, str(key)), f"unknown key; allowed: {', '.join(allowed)}"
                )
        for key in required:
            if key not in value:
                raise self.error(join_path(path, key), "missing; it is required")
        return dict(value)

    def text(self, value, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, f"must be a non-empty string, got {value!r}")
        return value

    def integer(self, value, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(path, f"must be a whole number, got {value!r}")
        return value

    def number(self, value, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(path, f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise self.error(path, f"must be finite, got {value!r}")
        return float(value)

    def boolean(self, value, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(path, f"must be true or false, got {value!r}")
        return value

    def choice(self, value, path: str, enum_type: type[enum.Enum], what: str):
        allowed = [member.value for member in enum_type]
        if value not in allowed:
            raise self.error(path, f"{value!r} is not {what}; allowed: {', '.join(allowed)}")
        return enum_type(value)

    def names(self, value, path: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.error(path, f"must be a list of column names, got {value!r}")
        return tuple(self.text(item, f"{path}[{i}]") for i, item in enumerate(value))

    # Spec parts.

    def dataset(self, data) -> DatasetSpec:
        if not isinstance(data, Mapping):
            raise self.error("", "a spec must be a mapping with source, label and features")
        data = self.mapping(data, "", TOP_LEVEL_KEYS)
        for key, example in (
            ("source", "source: {format: csv, path: data.csv}"),
            ("label", "label: {column: ..., kind: binary | multiclass | regression}"),
            ("features", "features: {<column>: {kind: numeric}, ...}"),
        ):
            if key not in data:
                raise self.error(key, f"missing; a spec needs e.g. `{example}`")
        return self.build(
            "",
            DatasetSpec,
            source=self.source_spec(data["source"]),
            label=self.label(data["label"]),
            features=self.features(data["features"]),
            slices=self.names(data["slices"], "slices") if "slices" in data else (),
            split=self.split(data["split"]) if "split" in data else SplitSpec(),
            name=self.text(data["name"], "name") if "name" in data else "",
            schema=self.text(data["schema"], "schema") if "schema" in data else None,
            evaluation=(
                self.evaluation(data["evaluation"]) if "evaluation" in data else EvaluationSpec()
            ),
            drift=self.drift(data["drift"]) if "drift" in data else DriftSpec(),
            origin=self.source,
        )

    def source_spec(self, value) -> SourceSpec:
        value = self.mapping(
            value,
            "source",
            ("format", "path", "pattern", "spans", "delimiter"),
            ("format", "path"),
        )
        optional = {
            k: self.text(value[k], f"source.{k}") for k in ("pattern", "spans") if k in value
        }
        if "delimiter" in value:  # not `text`: a tab is blank
            if not isinstance(value["delimiter"], str):
                raise self.error(
                    "source.delimiter",
                    f"must be one character in quotes, e.g. ';', got {value['delimiter']!r}",
                )
            optional["delimiter"] = value["delimiter"]
        return self.build(
            "source",
            SourceSpec,
            format=self.choice(value["format"], "source.format", SourceFormat, "a format"),
            path=self.text(value["path"], "source.path"),
            **optional,
        )

    def label(self, value) -> LabelSpec:
        value = self.mapping(
            value, "label", ("column", "kind", "derive", "classes"), ("column", "kind")
        )
        kwargs = {
            "column": self.text(value["column"], "label.column"),
            "kind": self.choice(value["kind"], "label.kind", Task, "a label kind"),
        }
        if "derive" in value:
            text = self.text(value["derive"], "label.derive")
            try:
                kwargs["derive"] = parse_expression(text)
            except ExpressionError as error:
                raise self.error("label.derive", str(error)) from None
        if "classes" in value:
            kwargs["classes"] = self.classes(value["classes"])
        return self.build("label", LabelSpec, **kwargs)

    def classes(self, value) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.error("label.classes", f"must be a list of class values, got {value!r}")
        classes = []
        for index, item in enumerate(value):
            path = f"label.classes[{index}]"
            if isinstance(item, bool) or item is None:
                raise self.error(
                    path,
                    f"{item!r}: YAML reads unquoted yes/no/true/false/null as booleans or "
                    "null; quote the class value",
                )
            if not isinstance(item, (str, int, float)):
                raise self.error(path, f"must be a string or a number, got {item!r}")
            classes.append(str(item))
        return tuple(classes)

    def split(self, value) -> SplitSpec:
        value = self.mapping(value, "split", ("train", "eval", "test", "key"))
        kwargs = {
            k: self.number(value[k], f"split.{k}") for k in ("train", "eval", "test") if k in value
        }
        if "key" in value:
            kwargs["key"] = self.text(value["key"], "split.key")
        return self.build("split", SplitSpec, **kwargs)

    def evaluation(self, value) -> EvaluationSpec:
        fields = tuple(f.name for f in dataclasses.fields(EvaluationSpec))
        value = self.mapping(value, "evaluation", fields)
        kwargs = {k: self.number(v, f"evaluation.{k}") for k, v in value.items()}
        return self.build("evaluation", EvaluationSpec, **kwargs)

    def drift(self, value) -> DriftSpec:
        fields = tuple(f.name for f in dataclasses.fields(DriftSpec))
        value = self.mapping(value, "drift", fields)
        kwargs = {}
        for key, raw in value.items():
            path = f"drift.{key}"
            if key == "on_drift":
                kwargs[key] = self.choice(raw, path, DriftAction, "an action on drift")
            else:
                kwargs[key] = self.number(raw, path)
        return self.build("drift", DriftSpec, **kwargs)

    def features(self, value) -> tuple[fs.Feature, ...]:
        if not isinstance(value, Mapping) or not value:
            raise self.error(
                "features", "must map each column name to its kind, e.g. `fare: {kind: numeric}`"
            )
        return tuple(self.feature(name, body) for name, body in value.items())

    def feature(self, name: str, body) -> fs.Feature:
        path = join_path("features", name)
        kinds = ", ".join(k.value for k in options.Kind)
        if isinstance(body, str):  # shorthand: `column: ignore`, `column: numeric`
            body = {"kind": body}
        if not isinstance(body, Mapping) or "kind" not in body:
            raise self.error(path, f"needs a kind ({kinds}), e.g. `{name}: {{kind: numeric}}`")
        kind = self.choice(body["kind"], join_path(path, "kind"), options.Kind, "a feature kind")
        cls = fs.FEATURE_CLASSES[kind]
        transform_type = fs.TRANSFORM_TYPES[kind]
        kwargs: dict[str, Any] = {"name": name}
        transform = None
        if transform_type is not None and "transform" in body:
            transform = self.choice(
                body["transform"],
                join_path(path, "transform"),
                transform_type,
                f"a {kind.value} transform",
            )
            kwargs["transform"] = transform
        elif transform_type is not None:
            transform = {f.name: f.default for f in dataclasses.fields(cls)}["transform"]
        allowed = cls.OPTIONS[transform]
        for key, raw in body.items():
            if key == "kind" or (key == "transform" and transform_type is not None):
                continue
            key_path = join_path(path, str(key))
            if key not in allowed:
                raise self.error(key_path, self._misplaced(cls, kind, transform, key))
            kwargs[key] = self.option(kind, key, raw, key_path)
        for key in cls.REQUIRED:
            if key not in body:
                raise self.error(join_path(path, key), f"missing; required for kind {kind.value}")
        return self.build(path, cls, **kwargs)

    @staticmethod
    def _misplaced(cls, kind: options.Kind, transform, key) -> str:
        allowed = cls.OPTIONS[transform]
        described = f"{kind.value} {transform.value}" if transform is not None else kind.value
        article = "an" if described[0] in "aeiou" else "a"
        if key in options.BOUNDS:
            return (
                f"value bounds apply to numeric and ignored columns, not {kind.value} ones; "
                f"remove {key!r}, or declare the column kind numeric or ignore"
            )
        if not allowed:
            return f"unknown option {key!r}; kind {kind.value} takes no options"
        listed = ", ".join(allowed)
        owners = [t.value for t, options in cls.OPTIONS.items() if t is not None and key in options]
        if owners:
            return (
                f"option {key!r} applies to transform {' / '.join(owners)}, not "
                f"{transform.value}; options of {article} {described} feature: {listed}"
            )
        return f"unknown option {key!r}; options of {article} {described} feature: {listed}"

    def option(self, kind: options.Kind, key: str, raw, path: str):
        if key == "log1p":
            return self.boolean(raw, path)
        if key in options.BOUNDS:
            return self.number(raw, path)
        if key == "fill":
            if raw == "mean":
                return None
            if isinstance(raw, str):
                raise self.error(path, f"must be 'mean' or a number, got {raw!r}")
            return self.number(raw, path)
        if key == "encoding":
            if kind is options.Kind.IMAGE:
                return self.choice(raw, path, options.ImageEncoding, "an image encoding")
            return self.choice(raw, path, options.CategoricalEncoding, "a categorical encoding")
        if key == "embedding":
            return self.choice(raw, path, options.NumericEmbedding, "a numeric embedding")
        if key == "standardize":
            return self.choice(raw, path, options.TextStandardize, "a text standardization")
        if key == "tokenize":
            return self.choice(raw, path, options.TextTokenize, "a tokenizer")
        return self.integer(raw, path)
