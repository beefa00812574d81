"""A YAML syntax error of a spec file, located at the line that is wrong and said in words.

PyYAML reports where its parser gave up, which is often not where the mistake
is: a key without its colon (`column y`) reads on as a value spanning lines
until the next line's colon, so the error names the line after; an unclosed
quote or bracket is reported at the end of the file. `explain` moves the
report back to the line at fault, quotes that line, and says what to do.
"""

from __future__ import annotations

import yaml

from components.dataset.errors import SpecError

_MAPPING_HERE = "mapping values are not allowed here"
_END_OF_STREAM = "found unexpected end of stream"


def _previous_content_line(lines: list[str], index: int) -> int | None:
    """The index of the nearest line before `index` that holds more than a comment."""
    for i in range(index - 1, -1, -1):
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            return i
    return None


def _at_fault(error: yaml.MarkedYAMLError, lines: list[str]) -> tuple[int, str]:
    """The 0-based index of the line at fault, and what to do about it."""
    problem = error.problem or error.context or "not valid YAML"
    mark = error.problem_mark or error.context_mark
    index = min(mark.line, len(lines) - 1) if mark else 0
    opened = error.context_mark
    if problem == _END_OF_STREAM and opened is not None:
        what = "quote" if "quoted" in (error.context or "") else "bracket"
        return opened.line, f"a {what} opened here is never closed; close it"
    for bracket, closing in (("{", "}"), ("[", "]")):
        if problem.startswith(f"expected ',' or '{closing}'") and opened and opened.line < index:
            return opened.line, (
                f"the `{bracket}` opened here is not closed on its line; close it with `{closing}`"
            )
    if "'\\t'" in problem:
        return index, "YAML indents with spaces, not tabs; replace the tab with spaces"
    if problem == _MAPPING_HERE:
        before = _previous_content_line(lines, index)
        # The value before this line's colon began on an earlier line: that line has no colon of
        # its own (a key without its colon), or this line is indented deeper than its siblings.
        if before is not None and index > 0 and ":" not in lines[before].split("#")[0]:
            return before, "a key and its value need a colon and a space between them, `key: value`"
        return index, (
            "this key is indented deeper than the key above it; indent it like its sibling keys"
        )
    if problem.startswith("expected <block end>"):
        return index, (
            "its indentation matches no key above it; indent it like its sibling keys "
            "(the same number of spaces)"
        )
    return index, problem


def explain(error: yaml.MarkedYAMLError, text: str, source: str) -> SpecError:
    """The spec error for a YAML syntax error: the line at fault, its text, what to do.

    Args:
      error: PyYAML's error.
      text: The spec file's text.
      source: The spec file, for the message.

    Returns:
      The error, e.g. `spec.yaml:3: not valid YAML in `column y`: a key and its value need
      a colon and a space between them, `key: value``.
    """
    lines = text.splitlines() or [""]
    index, what = _at_fault(error, lines)
    shown = lines[index].strip() if index < len(lines) else ""
    where = f" in `{shown}`" if shown else ""
    return SpecError("", f"not valid YAML{where}: {what}", source, index + 1)
