"""Per-column specs: the kinds a raw column can be, their transforms and options.

Each kind is a frozen dataclass whose fields are the YAML options of
`features.<column>`; `OPTIONS` lists, per transform, which of them apply. The
checks here run however a spec is built and raise `SpecError` with the option
as path; the parser prefixes `features.<column>` and the file's line.

Numeric and ignored columns may declare inclusive value bounds (`min`, `max`):
ingestion quarantines a row whose value lies outside them.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import ClassVar

from components.spec.errors import SpecError, show_number


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


def _check_options(spec, allowed: tuple[str, ...]) -> None:
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


def _check_bounds(spec) -> None:
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


def _check_positive(spec, *names: str, minimum: int = 1) -> None:
    for name in names:
        value = getattr(spec, name)
        if value is not None and value < minimum:
            raise SpecError(name, f"must be at least {minimum}, got {value}")


@dataclasses.dataclass(frozen=True)
class NumericSpec:
    """A numeric column.

    Attributes:
      name: Raw column name.
      transform: zscore, minmax or bucketize. Defaults to zscore.
      log1p: Apply log(1 + max(x, 0)) first, for heavy-tailed non-negative
        columns (zscore and minmax). Defaults to False.
      buckets: Quantile buckets. Required (at least 2) for bucketize; with
        zscore or minmax, a positive value adds a bucketized view. Defaults to 0.
      fill: Value a missing cell takes; None fills with the training mean and
        adds a missing-value flag. Defaults to None.
      min: Smallest valid value (inclusive): ingestion quarantines a row with
        a smaller one. None: no lower bound. Defaults to None.
      max: Largest valid value (inclusive), likewise. Defaults to None.
    """

    kind: ClassVar[Kind] = Kind.NUMERIC
    OPTIONS: ClassVar[dict] = {
        NumericTransform.ZSCORE: ("log1p", "buckets", "fill", *BOUNDS),
        NumericTransform.MINMAX: ("log1p", "buckets", "fill", *BOUNDS),
        NumericTransform.BUCKETIZE: ("buckets", "fill", *BOUNDS),
    }
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    name: str
    transform: NumericTransform = NumericTransform.ZSCORE
    log1p: bool = False
    buckets: int = 0
    fill: float | None = None
    min: float | None = None
    max: float | None = None

    def __post_init__(self):
        _check_options(self, self.OPTIONS[self.transform])
        _check_positive(self, "buckets", minimum=0)
        _check_bounds(self)
        if self.transform is NumericTransform.BUCKETIZE and self.buckets < 2:
            raise SpecError("buckets", "bucketize needs buckets: 2 or more")
        if self.fill is not None and not math.isfinite(self.fill):
            raise SpecError("fill", f"must be 'mean' or a finite number, got {self.fill}")


@dataclasses.dataclass(frozen=True)
class CategoricalSpec:
    """A categorical column, turned into integer ids.

    Attributes:
      name: Raw column name.
      transform: vocabulary, hash or identity. Defaults to vocabulary.
      top_k: vocabulary: keep the `top_k` most frequent values. Defaults to 1000.
      frequency_threshold: vocabulary: drop values seen fewer times. Defaults to 0.
      oov_buckets: vocabulary: hash bins for values outside the vocabulary, so
        unseen values still get a learnable id; at least 1. Defaults to 2.
      bins: hash: number of bins, at least 2. Required for hash.
      num_values: identity: ids are in [0, num_values). Required for identity.
      offset: identity: subtracted from the raw value first (1 for months
        numbered 1..12). Defaults to 0.
      encoding: How the model consumes the ids: embedding or one_hot.
        Defaults to embedding.
      embedding_size: Width of the embedding; None sizes it from the number of
        ids. Defaults to None.
    """

    kind: ClassVar[Kind] = Kind.CATEGORICAL
    OPTIONS: ClassVar[dict] = {
        CategoricalTransform.VOCABULARY: (
            "top_k",
            "frequency_threshold",
            "oov_buckets",
            "encoding",
            "embedding_size",
        ),
        CategoricalTransform.HASH: ("bins", "encoding", "embedding_size"),
        CategoricalTransform.IDENTITY: ("num_values", "offset", "encoding", "embedding_size"),
    }
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    name: str
    transform: CategoricalTransform = CategoricalTransform.VOCABULARY
    top_k: int = 1000
    frequency_threshold: int = 0
    oov_buckets: int = 2
    bins: int = 0
    num_values: int = 0
    offset: int = 0
    encoding: CategoricalEncoding = CategoricalEncoding.EMBEDDING
    embedding_size: int | None = None

    def __post_init__(self):
        _check_options(self, self.OPTIONS[self.transform])
        _check_positive(self, "top_k", "oov_buckets", "embedding_size")
        _check_positive(self, "frequency_threshold", minimum=0)
        if self.transform is CategoricalTransform.HASH and self.bins < 2:
            raise SpecError("bins", "hash needs bins: 2 or more")
        if self.transform is CategoricalTransform.IDENTITY and self.num_values < 1:
            raise SpecError("num_values", "identity needs num_values: 1 or more")
        if self.embedding_size is not None and self.encoding is not CategoricalEncoding.EMBEDDING:
            raise SpecError("embedding_size", "applies only to encoding 'embedding'")


@dataclasses.dataclass(frozen=True)
class TextSpec:
    """A free-text column.

    Attributes:
      name: Raw column name.
      transform: token_ids (for an embedding bag) or tfidf. Defaults to token_ids.
      standardize: Normalization before splitting. Defaults to lower_and_strip_punctuation.
      tokenize: whitespace (words) or characters. Defaults to whitespace.
      vocabulary_size: Most frequent tokens kept. Defaults to 10000.
      max_tokens: token_ids: tokens kept per value (padded or cut). Defaults to 64.
      embedding_size: token_ids: embedding width; None sizes it from the
        vocabulary. Defaults to None.
    """

    kind: ClassVar[Kind] = Kind.TEXT
    OPTIONS: ClassVar[dict] = {
        TextTransform.TOKEN_IDS: (
            "standardize",
            "tokenize",
            "vocabulary_size",
            "max_tokens",
            "embedding_size",
        ),
        TextTransform.TFIDF: ("standardize", "tokenize", "vocabulary_size"),
    }
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    name: str
    transform: TextTransform = TextTransform.TOKEN_IDS
    standardize: TextStandardize = TextStandardize.LOWER_AND_STRIP_PUNCTUATION
    tokenize: TextTokenize = TextTokenize.WHITESPACE
    vocabulary_size: int = 10_000
    max_tokens: int = 64
    embedding_size: int | None = None

    def __post_init__(self):
        _check_options(self, self.OPTIONS[self.transform])
        _check_positive(self, "vocabulary_size", "max_tokens", "embedding_size")


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """An image column.

    Attributes:
      name: Raw column name.
      encoding: png, jpeg, or tensor (raw uint8 bytes). Required.
      height: Pixels; images are resized to it. Required.
      width: Pixels. Required.
      channels: 1 (grey), 3 (RGB) or 4 (RGBA). Defaults to 3.
      transform: rescale (to [0, 1]) or standardize (per image). Defaults to rescale.
    """

    kind: ClassVar[Kind] = Kind.IMAGE
    OPTIONS: ClassVar[dict] = {
        t: ("encoding", "height", "width", "channels") for t in ImageTransform
    }
    REQUIRED: ClassVar[tuple[str, ...]] = ("encoding", "height", "width")

    name: str
    encoding: ImageEncoding
    height: int
    width: int
    channels: int = 3
    transform: ImageTransform = ImageTransform.RESCALE

    def __post_init__(self):
        _check_positive(self, "height", "width")
        if self.channels not in (1, 3, 4):
            raise SpecError("channels", f"must be 1, 3 or 4, got {self.channels}")


@dataclasses.dataclass(frozen=True)
class IgnoredSpec:
    """A column that is in the data but is not a model input (e.g. a label source).

    Attributes:
      name: Raw column name.
      min: Smallest valid value (inclusive), for a column read as numbers
        (e.g. a label source): ingestion quarantines a row with a smaller one.
        None: no lower bound. Defaults to None.
      max: Largest valid value (inclusive), likewise. Defaults to None.
    """

    kind: ClassVar[Kind] = Kind.IGNORE
    OPTIONS: ClassVar[dict] = {None: BOUNDS}
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    name: str
    min: float | None = None
    max: float | None = None

    def __post_init__(self):
        _check_bounds(self)


FeatureSpec = NumericSpec | CategoricalSpec | TextSpec | ImageSpec | IgnoredSpec
FEATURE_CLASSES = {cls.kind: cls for cls in (NumericSpec, CategoricalSpec, TextSpec, ImageSpec)}
FEATURE_CLASSES[Kind.IGNORE] = IgnoredSpec
# The transform enum of each kind; None for kinds without a choice of transform.
TRANSFORM_TYPES = {
    Kind.NUMERIC: NumericTransform,
    Kind.CATEGORICAL: CategoricalTransform,
    Kind.TEXT: TextTransform,
    Kind.IMAGE: ImageTransform,
    Kind.IGNORE: None,
}
