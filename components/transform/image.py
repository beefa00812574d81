"""Image features: decoded, resized, rescaled or standardized, flattened."""

from __future__ import annotations

import tensorflow as tf

from components.dataset import ImageEncoding, ImageFeature, ImageTransform
from components.transform.tensors import to_dense


def image_feature(raw, feature: ImageFeature):
    """Decodes, resizes and scales an image column.

    Returns:
      float32 (batch, height * width * channels): the pixels, row by row,
      rescaled to [0, 1] or standardized per image; a missing image is all 0.
    """
    shape = feature.shape
    encoded = to_dense(raw, "")

    def decode(value):
        if feature.encoding is ImageEncoding.TENSOR:
            image = tf.io.parse_tensor(value, tf.uint8)
        else:
            image = tf.io.decode_image(value, channels=feature.channels, expand_animations=False)
        size = tf.shape(image)
        image = tf.reshape(image, [size[0], size[1], feature.channels])
        return tf.image.resize(tf.cast(image, tf.float32), shape[:2])

    def one(value):
        return tf.cond(tf.strings.length(value) > 0, lambda: decode(value), lambda: tf.zeros(shape))

    images = tf.map_fn(one, encoded, fn_output_signature=tf.TensorSpec(shape, tf.float32))
    if feature.transform is ImageTransform.STANDARDIZE:
        images = tf.image.per_image_standardization(images)
    else:
        images = images / 255.0
    return tf.reshape(images, [-1, shape[0] * shape[1] * shape[2]])
