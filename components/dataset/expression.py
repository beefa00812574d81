"""The `label.derive` grammar: small arithmetic comparisons over columns, parsed without eval.

A derived binary label is written as text in the spec, e.g. `tips > 0.2 * fare`.
This module tokenizes and parses that text itself into a tiny syntax tree, so
a spec can never run code: anything outside the grammar is refused with the
position of the offending character.

Grammar (one comparison at most, at the top):

    expression := sum [ ('>' | '>=' | '<' | '<=' | '==' | '!=') sum ]
    sum        := product { ('+' | '-') product }
    product    := unary { ('*' | '/') unary }
    unary      := '-' unary | atom
    atom       := number | column | '(' sum ')'

A column is a name (`fare`, `trip_miles`) or any text in backticks
(`` `trip miles` ``). The same tree is evaluated on NumPy arrays (label checks,
inference, tests) and on TensorFlow tensors (Transform); both treat a missing
value as 0, as Transform's label always has.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import numpy as np

COMPARISONS = (">=", "<=", "==", "!=", ">", "<")
ARITHMETIC = ("+", "-", "*", "/")
# Deep nesting only ever comes from hostile or generated input; refusing it
# keeps the recursive-descent parser far from Python's recursion limit.
MAX_NESTING = 32
MAX_LENGTH = 1000

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<quoted>`[^`]+`)
  | (?P<op>>=|<=|==|!=|[-+*/()<>])
    """,
    re.VERBOSE,
)


class ExpressionError(ValueError):
    """The text is not an expression of the derive grammar."""


@dataclasses.dataclass(frozen=True)
class Number:
    value: float


@dataclasses.dataclass(frozen=True)
class Column:
    name: str


@dataclasses.dataclass(frozen=True)
class Negate:
    operand: Node


@dataclasses.dataclass(frozen=True)
class BinaryOp:
    """Arithmetic (`+ - * /`) or, at the top of the tree only, a comparison."""

    op: str
    left: Node
    right: Node


Node = Number | Column | Negate | BinaryOp


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "op" or "end"
    text: str
    position: int  # 0-based offset into the source text


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(
                f"unexpected character {text[position]!r} at column {position + 1} of "
                f"{text!r}; only column names, numbers, + - * / ( ) and one comparison "
                "(> >= < <= == !=) are allowed"
            )
        kind = match.lastgroup
        if kind == "quoted":
            tokens.append(_Token("name", match.group()[1:-1], position))
        elif kind != "space":
            tokens.append(_Token(kind, match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    def _peek(self) -> _Token:
        return self.tokens[self.index]

    def _take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _fail(self, token: _Token, expected: str) -> ExpressionError:
        found = "the end" if token.kind == "end" else repr(token.text)
        return ExpressionError(
            f"expected {expected} at column {token.position + 1} of {self.text!r}, found {found}"
        )

    def parse(self) -> Node:
        left = self._sum()
        token = self._peek()
        if token.kind == "op" and token.text in COMPARISONS:
            self._take()
            left = BinaryOp(token.text, left, self._sum())
            token = self._peek()
            if token.kind == "op" and token.text in COMPARISONS:
                raise ExpressionError(
                    f"a second comparison at column {token.position + 1} of {self.text!r}: "
                    "only one comparison is allowed"
                )
        if token.kind != "end":
            raise self._fail(token, "an operator")
        return left

    def _sum(self) -> Node:
        node = self._product()
        while self._peek().kind == "op" and self._peek().text in ("+", "-"):
            node = BinaryOp(self._take().text, node, self._product())
        return node

    def _product(self) -> Node:
        node = self._unary()
        while self._peek().kind == "op" and self._peek().text in ("*", "/"):
            node = BinaryOp(self._take().text, node, self._unary())
        return node

    def _unary(self) -> Node:
        token = self._peek()
        if token.kind == "op" and token.text == "-":
            self._take()
            return Negate(self._nested(self._unary, token))
        return self._atom()

    def _atom(self) -> Node:
        token = self._take()
        if token.kind == "number":
            return Number(float(token.text))
        if token.kind == "name":
            return Column(token.text)
        if token.kind == "op" and token.text == "(":
            node = self._nested(self._sum, token)
            closing = self._take()
            if closing.text != ")" or closing.kind != "op":
                raise self._fail(closing, "')'")
            return node
        raise self._fail(token, "a column or a number")

    def _nested(self, rule, token: _Token) -> Node:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionError(
                f"nested more than {MAX_NESTING} deep at column {token.position + 1}"
            )
        try:
            return rule()
        finally:
            self.depth -= 1


@dataclasses.dataclass(frozen=True)
class Expression:
    """A parsed derive expression.

    Attributes:
      text: The source text, kept for writing the spec back. Two expressions
        with the same tree are equal whatever their spacing.
      root: The syntax tree.
    """

    text: str = dataclasses.field(compare=False)
    root: Node

    @property
    def is_comparison(self) -> bool:
        """True when the expression yields booleans (its top is a comparison)."""
        return isinstance(self.root, BinaryOp) and self.root.op in COMPARISONS

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns the expression reads, in order of first appearance."""
        found: list[str] = []

        def visit(node: Node) -> None:
            if isinstance(node, Column) and node.name not in found:
                found.append(node.name)
            elif isinstance(node, Negate):
                visit(node.operand)
            elif isinstance(node, BinaryOp):
                visit(node.left)
                visit(node.right)

        visit(self.root)
        return tuple(found)

    def evaluate(self, columns: Mapping[str, object]) -> np.ndarray:
        """Computes the expression on NumPy arrays.

        Args:
          columns: Column name -> 1-D array-like of numbers; NaN (or None)
            marks a missing value, which counts as 0.

        Returns:
          A bool array for a comparison, otherwise a float64 array.

        Raises:
          ValueError: A column the expression reads is not in `columns`.
        """
        arrays = {}
        for name in self.columns:
            if name not in columns:
                raise ValueError(
                    f"Expression {self.text!r} reads column {name!r}, which is not among "
                    f"the given columns {sorted(columns)}."
                )
            values = np.asarray(columns[name], dtype=np.float64)
            arrays[name] = np.where(np.isnan(values), 0.0, values)
        # Division by zero gives inf or NaN, exactly as in TensorFlow; no warning.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.asarray(_evaluate(self.root, arrays, _NUMPY_OPS, float))

    def evaluate_tensor(self, columns: Mapping[str, object]):
        """Computes the expression on dense TensorFlow tensors (for Transform).

        Args:
          columns: Column name -> dense tensor of shape (batch,), any numeric
            dtype; the caller fills missing values with 0 first (as
            `preprocessing._to_dense` does).

        Returns:
          A tf.bool tensor for a comparison, otherwise a tf.float32 tensor.
        """
        import tensorflow as tf  # Only Transform needs TensorFlow; parsing a spec must not.

        ops = {
            "+": tf.add,
            "-": tf.subtract,
            "*": tf.multiply,
            "/": tf.math.divide,
            ">": tf.greater,
            ">=": tf.greater_equal,
            "<": tf.less,
            "<=": tf.less_equal,
            "==": tf.equal,
            "!=": tf.not_equal,
            "neg": tf.negative,
        }
        tensors = {name: tf.cast(columns[name], tf.float32) for name in self.columns}
        return _evaluate(self.root, tensors, ops, lambda v: tf.constant(v, tf.float32))

    def __str__(self) -> str:
        return self.text


_NUMPY_OPS = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
    "==": np.equal,
    "!=": np.not_equal,
    "neg": np.negative,
}


def _evaluate(node: Node, columns: Mapping[str, object], ops: Mapping, constant):
    if isinstance(node, Number):
        return constant(node.value)
    if isinstance(node, Column):
        return columns[node.name]
    if isinstance(node, Negate):
        return ops["neg"](_evaluate(node.operand, columns, ops, constant))
    left = _evaluate(node.left, columns, ops, constant)
    right = _evaluate(node.right, columns, ops, constant)
    return ops[node.op](left, right)


def parse_expression(text: str) -> Expression:
    """Parses derive text such as `tips > 0.2 * fare`.

    Args:
      text: The expression.

    Returns:
      The parsed expression.

    Raises:
      ExpressionError: The text is empty, too long, or outside the grammar; the
        message gives the column of the first offending character.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("an expression is needed, e.g. 'tips > 0.2 * fare'")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"longer than {MAX_LENGTH} characters")
    return Expression(text.strip(), _Parser(text.strip()).parse())
