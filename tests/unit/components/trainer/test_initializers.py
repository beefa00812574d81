"""Kernel initializers: the variance each formula promises, measured on a large kernel."""

import numpy as np
import pytest
import tf_keras as keras

from components.trainer import initializers

# Rows are fan_in, columns fan_out; unequal so that fan_in, fan_out and
# fan_avg give three different variances, and 10**6 weights in all.
FAN_IN, FAN_OUT = 500, 2000

# (name, variance for fan_in=500, fan_out=2000, worked out by hand, distribution)
TABLE = [
    ("glorot_normal", 2 / 2500, "truncated_normal"),
    ("glorot_uniform", 2 / 2500, "uniform"),
    ("he_normal", 2 / 500, "truncated_normal"),
    ("he_uniform", 2 / 500, "uniform"),
    ("lecun_normal", 1 / 500, "truncated_normal"),
    ("lecun_uniform", 1 / 500, "uniform"),
    ("variance_scaling_fan_in", 2 / 500, "truncated_normal"),
    ("variance_scaling_fan_avg", 2 / 1250, "truncated_normal"),
    ("variance_scaling_fan_out", 2 / 2000, "truncated_normal"),
]
IDS = [row[0] for row in TABLE]

# The sample variance of n draws has relative standard error sqrt((kurtosis - 1) / n):
# kurtosis 1.8 for a uniform, ~2.4 for a normal truncated at 2 sigma, so at
# n = 10**6 about 0.1 %. 1 % is ~7 standard errors: a real formula error (a
# factor 2, a wrong fan, a missing truncation correction of 1.29x) cannot hide in it.
VARIANCE_RTOL = 0.01


def test_every_name_is_in_the_table():
    assert set(initializers.INITIALIZERS) == set(IDS)


@pytest.mark.parametrize("name, variance, distribution", TABLE, ids=IDS)
def test_expected_variance_is_the_formula(name, variance, distribution):
    assert initializers.expected_variance(name, FAN_IN, FAN_OUT) == pytest.approx(variance)


@pytest.mark.parametrize("name, variance, distribution", TABLE, ids=IDS)
def test_sampled_kernel_has_the_formula_variance(name, variance, distribution):
    kernel = initializers.make_initializer(name, seed=7)((FAN_IN, FAN_OUT)).numpy()

    assert kernel.shape == (FAN_IN, FAN_OUT)
    assert kernel.var() == pytest.approx(variance, rel=VARIANCE_RTOL)
    # Standard error of the mean is sqrt(variance / 10**6); 5 of them.
    assert abs(kernel.mean()) < 5 * np.sqrt(variance / kernel.size)
    limit = np.abs(kernel).max()
    if distribution == "uniform":
        # Uniform on [-a, a] has variance a**2 / 3.
        assert limit <= np.sqrt(3 * variance) * (1 + 1e-6)
    else:
        # Truncated at two (corrected) standard deviations; the correction
        # factor 1 / 0.8796 is the std of a standard normal cut at +-2.
        assert limit <= 2 * np.sqrt(variance) / 0.87962566 * (1 + 1e-6)


@pytest.mark.parametrize("name, variance, distribution", TABLE, ids=IDS)
def test_initializer_has_the_table_scale_mode_and_distribution(name, variance, distribution):
    initializer = initializers.make_initializer(name, seed=3)

    assert isinstance(initializer, keras.initializers.VarianceScaling)
    # Named subclasses (HeNormal, ...) put only the seed in their config.
    assert initializer.distribution == distribution
    assert initializer.scale / {"fan_in": 500, "fan_out": 2000, "fan_avg": 1250}[
        initializer.mode
    ] == pytest.approx(variance)
    assert initializer.seed == 3


def test_same_seed_same_weights_other_seed_other_weights():
    first = initializers.make_initializer("he_normal", seed=1)((20, 30)).numpy()
    again = initializers.make_initializer("he_normal", seed=1)((20, 30)).numpy()
    other = initializers.make_initializer("he_normal", seed=2)((20, 30)).numpy()

    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


@pytest.mark.parametrize(
    "scale, mode, distribution, variance",
    [
        (1.0, "fan_in", "untruncated_normal", 1 / 500),
        (3.0, "fan_out", "uniform", 3 / 2000),
        (0.5, "fan_avg", "truncated_normal", 0.5 / 1250),
    ],
    ids=["untruncated-fan_in", "uniform-fan_out-scale3", "truncated-fan_avg-scale0.5"],
)
def test_explicit_variance_scaling(scale, mode, distribution, variance):
    initializer = initializers.variance_scaling(scale, mode, distribution, seed=11)
    kernel = initializer((FAN_IN, FAN_OUT)).numpy()

    # An untruncated normal has kurtosis 3: relative standard error 0.14 %.
    assert kernel.var() == pytest.approx(variance, rel=VARIANCE_RTOL)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: initializers.make_initializer("xavier", seed=0), "xavier"),
        (lambda: initializers.expected_variance("he", 10, 10), "he_normal"),
        (lambda: initializers.expected_variance("he_normal", 0, 10), "fan_in=0"),
        (lambda: initializers.variance_scaling(0.0, "fan_in", "uniform", 0), "positive"),
        (lambda: initializers.variance_scaling(1.0, "fan_sum", "uniform", 0), "fan_avg"),
        (lambda: initializers.variance_scaling(1.0, "fan_in", "cauchy", 0), "untruncated_normal"),
    ],
    ids=["unknown-name", "unknown-name-lists-known", "zero-fan", "zero-scale", "mode", "dist"],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_unknown_name_error_lists_every_known_name():
    with pytest.raises(ValueError) as error:
        initializers.make_initializer("xavier", seed=0)
    for name in IDS:
        assert name in str(error.value)
