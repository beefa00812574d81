"""The label derive grammar: the tree it builds, exact values in numpy and TensorFlow, refusals."""

import math

import numpy as np
import pytest

from components import dataset as S
from components.dataset.expression import BinaryOp, Column, Negate, Number


def test_derive_grammar_builds_the_expected_tree():
    expression = S.parse_expression("tips > 0.2 * (fare + -extras) / `trip miles`")
    assert expression.root == BinaryOp(
        ">",
        Column("tips"),
        BinaryOp(
            "/",
            BinaryOp("*", Number(0.2), BinaryOp("+", Column("fare"), Negate(Column("extras")))),
            Column("trip miles"),
        ),
    )
    assert expression.columns == ("tips", "fare", "extras", "trip miles")
    assert expression.is_comparison
    assert S.parse_expression("a  >  b") == S.parse_expression("a>b")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tips > 0.2 * fare", [False, True, False, True, False]),
        ("tips >= 0.2 * fare", [True, True, False, True, True]),
        ("tips + 1 == fare / 5 + 1", [True, False, False, False, True]),
        ("tips != 0", [True, True, False, True, False]),
        ("-tips < -1", [True, True, False, True, False]),
        ("tips - 3 - 4", [-5.0, -4.0, -7.0, -2.0, -7.0]),  # left-associative
        ("tips - fare * 2 / 4", [-3.0, 0.5, -5.0, 4.0, 0.0]),
        ("(tips - fare) * 2", [-16.0, -4.0, -20.0, 6.0, 0.0]),
    ],
    ids=["gt", "ge", "eq", "ne", "negate", "assoc", "precedence", "parentheses"],
)
def test_derive_computes_exact_values_on_arrays(text, expected):
    # Row 3 has a missing tip and row 5 a missing fare: both count as 0.
    columns = {
        "tips": np.array([2.0, 3.0, np.nan, 5.0, 0.0]),
        "fare": np.array([10.0, 5.0, 10.0, 2.0, np.nan]),
    }
    result = S.parse_expression(text).evaluate(columns)
    assert result.tolist() == expected


def test_derive_divides_by_zero_like_tensorflow():
    result = S.parse_expression("a / b").evaluate({"a": [1.0, 0.0, -1.0], "b": [0.0, 0.0, 0.0]})
    assert result[0] == math.inf and math.isnan(result[1]) and result[2] == -math.inf


def test_derive_reports_a_missing_column():
    with pytest.raises(ValueError, match="reads column 'fare', which is not among"):
        S.parse_expression("tips > fare").evaluate({"tips": [1.0]})


def test_derive_runs_in_tensorflow_with_the_same_values():
    import tensorflow as tf

    expression = S.parse_expression("tips > 0.2 * fare")
    tips = tf.constant([2.0, 3.0, 0.0, 5.0])
    fare = tf.constant([10, 5, 10, 2], tf.int64)  # mixed dtypes are cast to float32
    assert expression.evaluate_tensor({"tips": tips, "fare": fare}).numpy().tolist() == [
        False,
        True,
        False,
        True,
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os')", 'unexpected character "\'" at column 12'),
        ("fare.__class__", "unexpected character '.' at column 5"),
        ("tips > 0.2 * fare; import os", "unexpected character ';' at column 18"),
        ("lambda: 1", "unexpected character ':' at column 7"),
        ("tips ** 2", "expected a column or a number at column 7"),
        ("tips[0]", "unexpected character '['"),
        ("open(x)", "expected an operator at column 5 of 'open(x)', found '('"),
        ("tips > fare > 1", "a second comparison at column 13"),
        ("(tips > fare)", "expected ')' at column 7"),
        ("tips >", "expected a column or a number at column 7 of 'tips >', found the end"),
        ("  ", "an expression is needed"),
        ("(" * 40 + "x" + ")" * 40, "nested more than 32 deep"),
    ],
    ids=[
        "import",
        "attribute",
        "statement",
        "lambda",
        "power",
        "indexing",
        "call",
        "chained-comparison",
        "comparison-in-parentheses",
        "truncated",
        "empty",
        "deep-nesting",
    ],
)
def test_derive_refuses_anything_outside_the_grammar(text, message):
    with pytest.raises(S.ExpressionError) as caught:
        S.parse_expression(text)
    assert message in str(caught.value)
