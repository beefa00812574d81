"""The feature kinds a raw column can be: one class each, with its options and outputs.

Each kind is a frozen dataclass whose fields are the YAML options of
`features.<column>`, each default written once, here; `OPTIONS` lists, per
transform, which of them apply. The checks run however a feature is built
and raise `SpecError` with the option as path; the parser prefixes
`features.<column>` and the file's line. `outputs()` names the model inputs
Transform makes of the column (`components.transform` makes them) and
`raw_type` how ingestion reads it.

To add a transform to a kind: add its value to the kind's enum in `options`,
its options to `OPTIONS` here (and its outputs if they differ), and its
computation to that kind's module in `components.transform`.

Numeric and ignored columns may declare inclusive value bounds (`min`, `max`):
ingestion quarantines a row whose value lies outside them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

from components.dataset.errors import SpecError
from components.dataset.options import (
    BOUNDS,
    CategoricalEncoding,
    CategoricalTransform,
    ImageEncoding,
    ImageTransform,
    Kind,
    NumericEmbedding,
    NumericTransform,
    TextStandardize,
    TextTokenize,
    TextTransform,
    check_bounds,
    check_options,
    check_positive,
)
from components.dataset.transformed import TransformedFeature, transformed_name


@dataclasses.dataclass(frozen=True)
class NumericFeature:
    """A numeric column.

    Attributes:
      name: Raw column name.
      transform: zscore, minmax, bucketize, robust or piecewise_linear.
        Defaults to zscore.
      log1p: Apply log(1 + max(x, 0)) first, for heavy-tailed non-negative
        columns (zscore, minmax, robust, piecewise_linear). Defaults to False.
      buckets: Quantile buckets. Required (at least 2) for bucketize (the
        feature becomes its bucket id) and piecewise_linear (the feature becomes
        `buckets` values, one per bucket); with zscore, minmax or robust, a
        positive value adds a bucketized view. Defaults to 0.
      fill: Value a missing cell takes; None gives it the transform's central
        value (the training mean, or the median for robust and
        piecewise_linear) and adds a missing-value flag. Defaults to None.
      min: Smallest valid value (inclusive): ingestion quarantines a row with
        a smaller one. None: no lower bound. Defaults to None.
      max: Largest valid value (inclusive), likewise. Defaults to None.
      embedding: How the model reads the scaled value (zscore, minmax, robust): none (as
        it is) or periodic (a trainable periodic embedding in the model; Transform's
        output is unchanged, so serving needs nothing more). Defaults to none.
    """

    kind: ClassVar[Kind] = Kind.NUMERIC
    raw_type: ClassVar[str] = "float"  # how ingestion reads the column: int, float or string
    OPTIONS: ClassVar[dict] = {
        NumericTransform.ZSCORE: ("log1p", "buckets", "fill", "embedding", *BOUNDS),
        NumericTransform.MINMAX: ("log1p", "buckets", "fill", "embedding", *BOUNDS),
        NumericTransform.BUCKETIZE: ("buckets", "fill", *BOUNDS),
        NumericTransform.ROBUST: ("log1p", "buckets", "fill", "embedding", *BOUNDS),
        NumericTransform.PIECEWISE_LINEAR: ("log1p", "buckets", "fill", *BOUNDS),
    }
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    name: str
    transform: NumericTransform = NumericTransform.ZSCORE
    log1p: bool = False
    buckets: int = 0
    fill: float | None = None
    min: float | None = None
    max: float | None = None
    embedding: NumericEmbedding = NumericEmbedding.NONE

    def __post_init__(self):
        check_options(self, self.OPTIONS[self.transform])
        check_positive(self, "buckets", minimum=0)
        check_bounds(self)
        if self.transform is NumericTransform.BUCKETIZE and self.buckets < 2:
            raise SpecError("buckets", "bucketize needs buckets: 2 or more")
        if self.transform is NumericTransform.PIECEWISE_LINEAR and self.buckets < 2:
            raise SpecError(
                "buckets",
                f"piecewise_linear needs buckets: 2 or more (e.g. buckets: 8), got {self.buckets}",
            )
        if self.fill is not None and not math.isfinite(self.fill):
            raise SpecError("fill", f"must be 'mean' or a finite number, got {self.fill}")

    def outputs(self) -> tuple[TransformedFeature, ...]:
        """The scaled value (bucket id, or piecewise-linear vector), the missing flag without a
        fill, the bucket view."""
        bucketize = self.transform is NumericTransform.BUCKETIZE
        piecewise = self.transform is NumericTransform.PIECEWISE_LINEAR
        ids = {"is_categorical": True, "cardinality": self.buckets + 1}  # + the missing id
        if bucketize:
            value = TransformedFeature(transformed_name(self.name), **ids)
        elif piecewise:
            value = TransformedFeature(transformed_name(self.name), False, width=self.buckets)
        else:
            value = TransformedFeature(
                transformed_name(self.name),
                is_categorical=False,
                periodic=self.embedding is NumericEmbedding.PERIODIC,
            )
        out = [value]
        if self.fill is None:
            out.append(TransformedFeature(transformed_name(self.name + "_missing"), False))
        if self.buckets and not (bucketize or piecewise):
            out.append(TransformedFeature(transformed_name(self.name + "_bucket"), **ids))
        return tuple(out)


@dataclasses.dataclass(frozen=True)
class CategoricalFeature:
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
        check_options(self, self.OPTIONS[self.transform])
        check_positive(self, "top_k", "oov_buckets", "embedding_size")
        check_positive(self, "frequency_threshold", minimum=0)
        if self.transform is CategoricalTransform.HASH and self.bins < 2:
            raise SpecError("bins", "hash needs bins: 2 or more")
        if self.transform is CategoricalTransform.IDENTITY and self.num_values < 1:
            raise SpecError("num_values", "identity needs num_values: 1 or more")
        if self.embedding_size is not None and self.encoding is not CategoricalEncoding.EMBEDDING:
            raise SpecError("embedding_size", "applies only to encoding 'embedding'")

    @property
    def raw_type(self) -> str:
        """Identity ids are read as integers, other values as text."""
        return "int" if self.transform is CategoricalTransform.IDENTITY else "string"

    @property
    def one_hot(self) -> bool:
        """The model reads the ids one-hot instead of through an embedding."""
        return self.encoding is CategoricalEncoding.ONE_HOT

    def outputs(self) -> tuple[TransformedFeature, ...]:
        """The ids: a vocabulary's (counted after Transform), hash bins, or identity ids."""
        how = {"one_hot": self.one_hot, "embedding_size": self.embedding_size}
        name = transformed_name(self.name)
        if self.transform is CategoricalTransform.VOCABULARY:
            return (
                TransformedFeature(
                    name,
                    True,
                    vocabulary_name=self.name,
                    extra_ids=self.oov_buckets,
                    max_ids=self.top_k + self.oov_buckets,
                    **how,
                ),
            )
        if self.transform is CategoricalTransform.HASH:
            return (TransformedFeature(name, True, cardinality=self.bins, **how),)
        # One extra id for a missing value.
        return (TransformedFeature(name, True, cardinality=self.num_values + 1, **how),)


@dataclasses.dataclass(frozen=True)
class TextFeature:
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
    raw_type: ClassVar[str] = "string"
    OOV_BUCKETS: ClassVar[int] = 1  # one id for every token outside the vocabulary
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
        check_options(self, self.OPTIONS[self.transform])
        check_positive(self, "vocabulary_size", "max_tokens", "embedding_size")

    def outputs(self) -> tuple[TransformedFeature, ...]:
        """TF-IDF weights over the vocabulary, or padded token ids for an embedding bag."""
        name = transformed_name(self.name)
        if self.transform is TextTransform.TFIDF:
            return (TransformedFeature(name, False, width=self.vocabulary_size + self.OOV_BUCKETS),)
        # Ids: 0 padding, 1.. the vocabulary, then the OOV bucket.
        extra = self.OOV_BUCKETS + 1
        return (
            TransformedFeature(
                name,
                True,
                vocabulary_name=self.name,
                extra_ids=extra,
                max_ids=self.vocabulary_size + extra,
                width=self.max_tokens,
                embedding_size=self.embedding_size,
            ),
        )


@dataclasses.dataclass(frozen=True)
class ImageFeature:
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
    raw_type: ClassVar[str] = "string"  # the encoded bytes
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
        check_positive(self, "height", "width")
        if self.channels not in (1, 3, 4):
            raise SpecError("channels", f"must be 1, 3 or 4, got {self.channels}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(height, width, channels) after resizing."""
        return (self.height, self.width, self.channels)

    def outputs(self) -> tuple[TransformedFeature, ...]:
        """The pixels, flattened row by row."""
        pixels = self.height * self.width * self.channels
        return (
            TransformedFeature(
                transformed_name(self.name), False, width=pixels, image_shape=self.shape
            ),
        )


@dataclasses.dataclass(frozen=True)
class IgnoredColumn:
    """A column that is in the data but is not a model input (e.g. a label source).

    Attributes:
      name: Raw column name.
      min: Smallest valid value (inclusive), for a column read as numbers
        (e.g. a label source): ingestion quarantines a row with a smaller one.
        None: no lower bound. Defaults to None.
      max: Largest valid value (inclusive), likewise. Defaults to None.
    """

    kind: ClassVar[Kind] = Kind.IGNORE
    raw_type: ClassVar[str] = "string"  # unless a derived label reads it as numbers
    OPTIONS: ClassVar[dict] = {None: BOUNDS}
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    name: str
    min: float | None = None
    max: float | None = None

    def __post_init__(self):
        check_bounds(self)

    def outputs(self) -> tuple[TransformedFeature, ...]:
        """None: an ignored column is no model input."""
        return ()


Feature = NumericFeature | CategoricalFeature | TextFeature | ImageFeature | IgnoredColumn
FEATURE_CLASSES = {
    cls.kind: cls
    for cls in (NumericFeature, CategoricalFeature, TextFeature, ImageFeature, IgnoredColumn)
}
# The transform enum of each kind; None for kinds without a choice of transform.
TRANSFORM_TYPES = {
    Kind.NUMERIC: NumericTransform,
    Kind.CATEGORICAL: CategoricalTransform,
    Kind.TEXT: TextTransform,
    Kind.IMAGE: ImageTransform,
    Kind.IGNORE: None,
}
