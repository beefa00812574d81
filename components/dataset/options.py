"""The choices a column's options take (one enum per choice) and the checks they share.

A feature kind (`components.dataset.features`) declares its options as
dataclass fields typed by these enums; the parser (`parsing`) reads any of
them by its enum type and the dumper writes its value back.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Literal

from components.dataset.errors import SpecError, show_number

# How ingestion writes a raw column into a tf.Example: int64, float or bytes values. Each
# feature kind says which its column is (`raw_type`); a curated schema may say otherwise.
RawType = Literal["int", "float", "string"]
RAW_TYPES: tuple[str, ...] = ("int", "float", "string")


class Kind(str, enum.Enum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    TEXT = "text"
    IMAGE = "image"
    IGNORE = "ignore"  # in the data, not a model input (e.g. only a label source)


class NumericTransform(str, enum.Enum):
    ZSCORE = "zscore"  # (x - mean) / std over the training split
    MINMAX = "minmax"  # scaled to [0, 1] by the training split's min and max
    BUCKETIZE = "bucketize"  # quantile bucket id only
    # (x - median) / interquartile range over the training split, then smoothly clipped
    # to (-3, 3) (RealMLP's robust scaling, Holzmueller et al. 2024)
    ROBUST = "robust"
    # `buckets` values per example, each in [0, 1]: how far x is through each quantile bucket
    # (Gorishniy et al. 2022)
    PIECEWISE_LINEAR = "piecewise_linear"


class NumericEmbedding(str, enum.Enum):
    """How the model reads a scaled numeric value (Transform's output is the same)."""

    NONE = "none"  # the value itself
    # sin and cos of the value at learned frequencies, then a dense ReLU layer, trained with
    # the model (Gorishniy et al. 2022); for zscore, minmax and robust values
    PERIODIC = "periodic"


class CategoricalTransform(str, enum.Enum):
    VOCABULARY = "vocabulary"  # top-k vocabulary computed by Transform, plus OOV buckets
    HASH = "hash"  # fingerprint hashing into a fixed number of bins
    IDENTITY = "identity"  # the value already is a small integer id


class CategoricalEncoding(str, enum.Enum):
    EMBEDDING = "embedding"
    ONE_HOT = "one_hot"


class TextTransform(str, enum.Enum):
    TOKEN_IDS = "token_ids"  # padded token ids, for an embedding bag
    TFIDF = "tfidf"  # bag of words weighted by TF-IDF


class TextStandardize(str, enum.Enum):
    LOWER_AND_STRIP_PUNCTUATION = "lower_and_strip_punctuation"
    LOWER = "lower"
    NONE = "none"


class TextTokenize(str, enum.Enum):
    WHITESPACE = "whitespace"
    CHARACTERS = "characters"


class ImageEncoding(str, enum.Enum):
    PNG = "png"
    JPEG = "jpeg"
    TENSOR = "tensor"  # raw serialized uint8 tensor of shape (height, width, channels)


class ImageTransform(str, enum.Enum):
    RESCALE = "rescale"  # pixel / 255
    STANDARDIZE = "standardize"  # per image: zero mean, unit variance


def check_options(spec, allowed: tuple[str, ...]) -> None:
    """Options that do not apply to the spec's transform must keep their defaults.

    Otherwise a value would be silently ignored, and written back by
    `dump_spec` where the parser refuses it.
    """
    for field in dataclasses.fields(spec):
        if field.name in ("name", "transform") or field.name in allowed:
            continue
        if getattr(spec, field.name) != field.default:
            transform = getattr(spec, "transform", None)
            raise SpecError(
                field.name,
                f"does not apply to transform {transform.value!r}; "
                f"its options: {', '.join(allowed) or 'none'}",
            )


# Options of the kinds whose values are numbers that ingestion bounds (numeric, ignore).
BOUNDS: tuple[str, ...] = ("min", "max")


def check_bounds(spec) -> None:
    """`min` and `max` must be finite numbers, `min` at most `max`."""
    for name in BOUNDS:
        value = getattr(spec, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(name, f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise SpecError(
                name, f"must be a finite number, got {value}; leave it out for no bound"
            )
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        raise SpecError(
            "min",
            f"{show_number(spec.min)} is above max {show_number(spec.max)}; make min at most max",
        )


def check_positive(spec, *names: str, minimum: int = 1) -> None:
    for name in names:
        value = getattr(spec, name)
        if value is not None and value < minimum:
            raise SpecError(name, f"must be at least {minimum}, got {value}")
