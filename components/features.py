"""The feature registry: every raw column, how it is transformed, and the label.

Transform (`components.preprocessing`), the Trainer (`components.trainer`) and
the Evaluator (`components.evaluation`) all import their feature names from
here, so the three cannot disagree. A transformed feature is always named
`<raw name>_xf`; numeric features with a bucketized view also produce
`<raw name>_bucket_xf`, and features that can be missing produce
`<raw name>_missing_xf` (1.0 when the value was absent).

A registry is built from a data set spec (`components.spec.to_registry`); the
bundled taxi spec is `data/taxi/spec.yaml`.
"""

from __future__ import annotations

import dataclasses
import enum

# The label types live in components.labels; the registry holds one.
from components.labels import BinaryLabel, ColumnLabel, Label, Task  # noqa: F401

TRANSFORMED_SUFFIX = "_xf"


def transformed_name(name: str) -> str:
    """Returns the name of the transformed feature made from raw column `name`."""
    return name + TRANSFORMED_SUFFIX


class Encoding(str, enum.Enum):
    """How a categorical column becomes integer ids."""

    VOCABULARY = "vocabulary"  # top-k vocabulary computed by Transform, plus OOV buckets
    HASH = "hash"  # fingerprint hashing into a fixed number of bins
    IDENTITY = "identity"  # the value already is a small integer id in [0, num_values)


class Scale(str, enum.Enum):
    """What a numeric column becomes."""

    ZSCORE = "zscore"  # (x - mean) / std over the training split
    MINMAX = "minmax"  # (x - min) / (max - min) over the training split
    BUCKETIZE = "bucketize"  # the id of its quantile bucket, for an embedding


@dataclasses.dataclass(frozen=True)
class NumericFeature:
    """A numeric column, scaled (z-score or min-max) or bucketized.

    Attributes:
      name: Raw column name.
      log1p: Apply log(1 + max(x, 0)) before scaling; for heavy-tailed,
        non-negative columns such as fares and durations. Defaults to False.
      buckets: BUCKETIZE: the number of quantile buckets (ids 0..buckets - 1,
        and `buckets` for a missing value). Otherwise, when positive, also
        emit `<name>_bucket_xf`, a bucketized view. Defaults to 0.
      scale: zscore, minmax or bucketize. Defaults to zscore.
      fill: The value a missing cell takes, before everything else; None
        instead gives a missing value the training mean (0 after z-scoring)
        and adds the flag `<name>_missing_xf`. Defaults to None.
    """

    name: str
    log1p: bool = False
    buckets: int = 0
    scale: Scale = Scale.ZSCORE
    fill: float | None = None

    def __post_init__(self):
        if self.scale is Scale.BUCKETIZE and self.buckets < 2:
            raise ValueError(f"Feature {self.name!r}: bucketize needs buckets >= 2.")


class TextOutput(str, enum.Enum):
    """What a text column becomes."""

    TOKEN_IDS = "token_ids"  # padded token ids, averaged over an embedding (an embedding bag)
    TFIDF = "tfidf"  # a vector of TF-IDF weights over the vocabulary (and one OOV bucket)


@dataclasses.dataclass(frozen=True)
class TextFeature:
    """A free-text column, standardized, tokenized and mapped through a vocabulary.

    Attributes:
      name: Raw column name.
      output: token_ids or tfidf. Defaults to token_ids.
      standardize: "lower_and_strip_punctuation", "lower" or "none".
        Defaults to "lower_and_strip_punctuation".
      tokenize: "whitespace" (words) or "characters". Defaults to "whitespace".
      vocabulary_size: The most frequent tokens kept; the others share one
        out-of-vocabulary id. Defaults to 10_000.
      max_tokens: token_ids only: tokens kept per value, the rest cut; shorter
        values are padded with id 0. Defaults to 64.
      embedding_size: token_ids only: width of the token embedding; None
        sizes it from the vocabulary. Defaults to None.
    """

    name: str
    output: TextOutput = TextOutput.TOKEN_IDS
    standardize: str = "lower_and_strip_punctuation"
    tokenize: str = "whitespace"
    vocabulary_size: int = 10_000
    max_tokens: int = 64
    embedding_size: int | None = None

    OOV_BUCKETS = 1  # class constant: one id for every token outside the vocabulary


@dataclasses.dataclass(frozen=True)
class ImageFeature:
    """An image column: encoded bytes decoded, resized and scaled by Transform.

    Attributes:
      name: Raw column name.
      encoding: "png", "jpeg" or "tensor" (a `tf.io.serialize_tensor` of a
        uint8 (height, width, channels) tensor).
      height: Pixels after resizing.
      width: Pixels after resizing.
      channels: 1, 3 or 4. Defaults to 3.
      transform: "rescale" (pixel / 255) or "standardize" (per image: zero
        mean, unit variance). Defaults to "rescale".
    """

    name: str
    encoding: str
    height: int
    width: int
    channels: int = 3
    transform: str = "rescale"

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)


@dataclasses.dataclass(frozen=True)
class CategoricalFeature:
    """A categorical column, turned into integer ids for an embedding.

    Attributes:
      name: Raw column name.
      encoding: How values become ids.
      top_k: VOCABULARY only: keep the `top_k` most frequent values. Defaults to 1000.
      oov_buckets: VOCABULARY only: hash bins for values outside the vocabulary,
        so values never seen in training still get a learnable id. Defaults to 2.
      hash_buckets: HASH only: number of bins. Defaults to 0 (must be set for HASH).
      num_values: IDENTITY only: ids are in [0, num_values). Defaults to 0.
      offset: IDENTITY only: subtracted from the raw value first (e.g. 1 for
        months numbered 1..12). Defaults to 0.
      frequency_threshold: VOCABULARY only: values seen fewer times in
        training go to the OOV buckets. Defaults to 0.
      one_hot: The model reads the ids one-hot instead of through an
        embedding. Defaults to False.
      embedding_size: Embedding width; None sizes it from the number of ids.
        Defaults to None.
    """

    name: str
    encoding: Encoding
    top_k: int = 1000
    oov_buckets: int = 2
    hash_buckets: int = 0
    num_values: int = 0
    offset: int = 0
    frequency_threshold: int = 0
    one_hot: bool = False
    embedding_size: int | None = None

    def __post_init__(self):
        if self.encoding is Encoding.HASH and self.hash_buckets <= 0:
            raise ValueError(f"Feature {self.name!r}: HASH encoding needs hash_buckets > 0.")
        if self.encoding is Encoding.IDENTITY and self.num_values <= 0:
            raise ValueError(f"Feature {self.name!r}: IDENTITY encoding needs num_values > 0.")


@dataclasses.dataclass(frozen=True)
class TransformedFeature:
    """One model input produced by Transform.

    Attributes:
      name: Transformed name (`..._xf`).
      cardinality: Number of distinct ids for an integer id feature, or None for
        a real-valued feature. For VOCABULARY features it is known only after
        Transform has run, so it is None here and read from the Transform
        output by the Trainer (see `vocabulary_name`).
      vocabulary_name: File name of the Transform vocabulary, for VOCABULARY features.
      extra_ids: Ids beyond the vocabulary (OOV buckets), for VOCABULARY features.
      max_ids: The most ids the feature can ever have (top_k + OOV buckets for a
        vocabulary). Embedding widths are sized from it, so that a vocabulary
        growing between runs does not change the layers above the embedding
        (which warm start then reuses). None: size from the actual cardinality.
      width: Values per example: 1, or a text's padded token ids (averaged
        over their embedding, id 0 being padding) or TF-IDF vector. Defaults to 1.
      embedding_size: Embedding width; None: sized from the ids. Defaults to None.
      image_shape: For an image: (height, width, channels) of the flattened
        pixels. Defaults to None (not an image).
      one_hot: For ids: read one-hot instead of through an embedding.
        Defaults to False.
    """

    name: str
    is_categorical: bool
    cardinality: int | None = None
    vocabulary_name: str | None = None
    extra_ids: int = 0
    max_ids: int | None = None
    width: int = 1
    embedding_size: int | None = None
    image_shape: tuple[int, int, int] | None = None
    one_hot: bool = False


@dataclasses.dataclass(frozen=True)
class FeatureRegistry:
    """All raw columns of a data set and what becomes of them."""

    numeric: tuple[NumericFeature, ...]
    categorical: tuple[CategoricalFeature, ...]
    label: Label
    ignored: tuple[str, ...] = ()
    slice_columns: tuple[str, ...] = ()
    text: tuple[TextFeature, ...] = ()
    images: tuple[ImageFeature, ...] = ()

    def __post_init__(self):
        names = [f.name for f in self.numeric] + [f.name for f in self.categorical]
        names += [f.name for f in self.text] + [f.name for f in self.images]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Features declared twice: {duplicates}.")
        unknown_slices = set(self.slice_columns) - set(self.raw_columns)
        if unknown_slices:
            raise ValueError(f"Slice columns {sorted(unknown_slices)} are not raw columns.")

    @property
    def feature_columns(self) -> tuple[str, ...]:
        """Raw columns the model uses: numeric, categorical, text, images, each in spec order."""
        kinds = (self.numeric, self.categorical, self.text, self.images)
        return tuple(f.name for features in kinds for f in features)

    @property
    def raw_columns(self) -> tuple[str, ...]:
        """Every column the raw data must have (features, label sources, ignored)."""
        label_only = tuple(c for c in self.label.source_columns if c not in self.feature_columns)
        return self.feature_columns + label_only + tuple(self.ignored)

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        """Raw columns whose values must parse as numbers."""
        identity = tuple(f.name for f in self.categorical if f.encoding is Encoding.IDENTITY)
        label_sources = tuple(c for c in self.label.source_columns if c not in self.feature_columns)
        if not self.label.derived and self.label.classes:
            label_sources = ()  # class names: text
        return tuple(f.name for f in self.numeric) + identity + label_sources

    @property
    def task(self) -> Task:
        """What the model predicts."""
        return self.label.task

    @property
    def num_classes(self) -> int:
        """Classes of a classification label (2 for binary); 0 for regression."""
        if self.task is Task.REGRESSION:
            return 0
        return len(self.label.classes) or 2

    @property
    def label_key(self) -> str:
        """Name of the transformed label."""
        return transformed_name(self.label.name)

    def transformed_features(self) -> tuple[TransformedFeature, ...]:
        """Every model input Transform produces, in a stable order."""
        out = []
        for f in self.numeric:
            name = transformed_name(f.name)
            if f.scale is Scale.BUCKETIZE:
                out.append(TransformedFeature(name, True, cardinality=f.buckets + 1))
            else:
                out.append(TransformedFeature(name, is_categorical=False))
            if f.fill is None:
                out.append(
                    TransformedFeature(transformed_name(f.name + "_missing"), is_categorical=False)
                )
            if f.buckets and f.scale is not Scale.BUCKETIZE:
                out.append(
                    TransformedFeature(
                        transformed_name(f.name + "_bucket"),
                        is_categorical=True,
                        cardinality=f.buckets + 1,
                    )
                )
        for f in self.categorical:
            name = transformed_name(f.name)
            how = {"one_hot": f.one_hot, "embedding_size": f.embedding_size}
            if f.encoding is Encoding.VOCABULARY:
                out.append(
                    TransformedFeature(
                        name,
                        True,
                        vocabulary_name=f.name,
                        extra_ids=f.oov_buckets,
                        max_ids=f.top_k + f.oov_buckets,
                        **how,
                    )
                )
            elif f.encoding is Encoding.HASH:
                out.append(TransformedFeature(name, True, cardinality=f.hash_buckets, **how))
            else:
                # One extra id for a missing value.
                out.append(TransformedFeature(name, True, cardinality=f.num_values + 1, **how))
        for f in self.text:
            name = transformed_name(f.name)
            if f.output is TextOutput.TFIDF:
                out.append(TransformedFeature(name, False, width=f.vocabulary_size + 1))
            else:
                # Ids: 0 padding, 1.. the vocabulary, then the OOV bucket.
                extra = f.OOV_BUCKETS + 1
                out.append(
                    TransformedFeature(
                        name,
                        True,
                        vocabulary_name=f.name,
                        extra_ids=extra,
                        max_ids=f.vocabulary_size + extra,
                        width=f.max_tokens,
                        embedding_size=f.embedding_size,
                    )
                )
        for f in self.images:
            pixels = f.height * f.width * f.channels
            out.append(
                TransformedFeature(
                    transformed_name(f.name), False, width=pixels, image_shape=f.shape
                )
            )
        return tuple(out)
