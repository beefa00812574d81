"""Writes data.tfrecord.gz: scikit-learn's 8x8 handwritten digits as tf.train.Example records.

One Example per image, all 1,797 in `sklearn.datasets.load_digits()` order, with two features:

- `image`: bytes, `tf.io.serialize_tensor` of the image as a uint8 tensor of shape [8, 8, 1];
- `digit`: int64, the target 0..9.

Why the scaling: load_digits pixels are counts of "on" pixels in 4x4 blocks, 0..16. The spec's
image transform `rescale` divides by 255, as for any uint8 image, so each value becomes
round(v * 255 / 16): 0 stays 0, 16 becomes 255. Only v = 8 falls on a half (127.5); half-to-even
and half-up rounding both give 128, so the result does not depend on the rounding rule.

The output is byte-for-byte deterministic: fixed order, map fields serialized sorted
(`deterministic=True`), and the GZIP header written by TensorFlow carries no time stamp.

    .venv/bin/python data/digits/build.py
"""

import os
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

OUTPUT = Path(__file__).parent / "data.tfrecord.gz"


def to_uint8(image: np.ndarray) -> np.ndarray:
    """An 8x8 image of values 0..16 as [8, 8, 1] uint8 values 0..255."""
    return np.round(image * 255 / 16).astype(np.uint8)[:, :, np.newaxis]


def example(image: np.ndarray, digit: int) -> bytes:
    pixels = tf.io.serialize_tensor(tf.constant(to_uint8(image), tf.uint8)).numpy()
    features = {
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[pixels])),
        "digit": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(digit)])),
    }
    proto = tf.train.Example(features=tf.train.Features(feature=features))
    return proto.SerializeToString(deterministic=True)


def main() -> None:
    digits = load_digits()
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    with tf.io.TFRecordWriter(str(OUTPUT), options) as writer:
        for image, digit in zip(digits.images, digits.target, strict=True):
            writer.write(example(image, digit))
    print(f"Wrote {len(digits.target)} examples to {OUTPUT}")


if __name__ == "__main__":
    main()
