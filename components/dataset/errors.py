"""The error every spec check raises, and the YAML paths it names."""

from __future__ import annotations


class SpecError(ValueError):
    """A spec is invalid. The message names the file, line and YAML path when known.

    Attributes:
      path: YAML path of the offending value, e.g. `features.fare.transform`.
      problem: What is wrong and what is allowed.
      source: File (or other origin) of the spec, if known.
      line: 1-based line in `source`, if known.
    """

    def __init__(self, path: str, problem: str, source: str | None = None, line: int | None = None):
        self.path, self.problem, self.source, self.line = path, problem, source, line
        where = f"{source}:{line}: " if source and line else f"{source}: " if source else ""
        super().__init__(f"{where}{path + ': ' if path else ''}{problem}")


def join_path(prefix: str, key: str) -> str:
    """Joins YAML path parts: ("features", "fare") -> "features.fare"; "[2]" is appended as is."""
    if not prefix:
        return key
    if not key:
        return prefix
    return prefix + key if key.startswith("[") else f"{prefix}.{key}"


def show_number(value: float) -> str:
    """A number as a message shows it: shortest exact form, whole numbers without ".0" (0, 0.2)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text
