"""What Transform makes of a data set: the model inputs, each named `<raw name>_xf`.

Each feature kind (`components.dataset.features`) lists its transformed
outputs as `TransformedFeature`s; the Trainer sizes its input layers from
them and Transform (`components.transform`) produces exactly these names.
A numeric feature with a bucketized view also makes `<name>_bucket_xf`, one
that can be missing `<name>_missing_xf` (1.0 when the value was absent).
"""

from __future__ import annotations

import dataclasses

TRANSFORMED_SUFFIX = "_xf"


def transformed_name(name: str) -> str:
    """Returns the name of the transformed feature made from raw column `name`."""
    return name + TRANSFORMED_SUFFIX


@dataclasses.dataclass(frozen=True)
class TransformedFeature:
    """One model input produced by Transform.

    Attributes:
      name: Transformed name (`..._xf`).
      is_categorical: True for integer ids (read through an embedding or
        one-hot), False for real values.
      cardinality: Number of distinct ids for an integer id feature, or None for
        a real-valued feature. For vocabulary features it is known only after
        Transform has run, so it is None here and read from the Transform
        output by the Trainer (see `vocabulary_name`).
      vocabulary_name: File name of the Transform vocabulary, for vocabulary features.
      extra_ids: Ids beyond the vocabulary (OOV buckets), for vocabulary features.
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
      periodic: For a real value: read through a trainable periodic embedding
        (`components.trainer.periodic`). Defaults to False.
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
    periodic: bool = False
