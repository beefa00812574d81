"""Bundled 8x8 digits: the spec loads as declared and data.tfrecord.gz has the measured contents."""

import collections
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

from components.dataset import ImageEncoding, ImageTransform, Kind, Task, load_spec

DIGITS = Path(__file__).parents[3] / "data" / "digits"
COUNTS = {0: 178, 1: 182, 2: 177, 3: 183, 4: 181, 5: 182, 6: 181, 7: 179, 8: 174, 9: 180}
FEATURES = {
    "image": tf.io.FixedLenFeature([], tf.string),
    "digit": tf.io.FixedLenFeature([], tf.int64),
}


@pytest.fixture(scope="module")
def spec():
    return load_spec(DIGITS / "spec.yaml")


@pytest.fixture(scope="module")
def records():
    dataset = tf.data.TFRecordDataset(str(DIGITS / "data.tfrecord.gz"), compression_type="GZIP")
    return [record.numpy() for record in dataset]


@pytest.fixture(scope="module")
def examples(records):
    """(images, digits): every image decoded to a uint8 [8, 8, 1] array, in file order."""
    images, digits = [], []
    for record in records:
        parsed = tf.io.parse_single_example(record, FEATURES)
        images.append(tf.io.parse_tensor(parsed["image"], out_type=tf.uint8).numpy())
        digits.append(int(parsed["digit"]))
    return images, digits


def test_spec_label(spec):
    assert spec.name == "digits"
    assert spec.label.column == "digit"
    assert spec.label.kind is Task.MULTICLASS
    assert spec.label.derive is None
    assert spec.label.classes == tuple(str(digit) for digit in range(10))


def test_spec_image_feature(spec):
    (image,) = spec.features
    assert image.name == "image"
    assert image.kind is Kind.IMAGE
    assert image.encoding is ImageEncoding.TENSOR
    assert (image.height, image.width, image.channels) == (8, 8, 1)
    assert image.transform is ImageTransform.RESCALE


def test_spec_source_slices_split(spec):
    assert spec.source.format.value == "tfrecord"
    assert spec.source.path == "data.tfrecord.gz"
    assert Path(spec.resolve(spec.source.path)).is_file()
    assert spec.slices == ()
    assert spec.split.key is None
    assert (spec.split.train, spec.split.eval, spec.split.test) == (0.7, 0.15, 0.15)


def test_examples_have_exactly_image_and_digit(records):
    for record in records:
        example = tf.train.Example.FromString(record)
        assert set(example.features.feature) == {"image", "digit"}
        assert len(example.features.feature["image"].bytes_list.value) == 1
        assert len(example.features.feature["digit"].int64_list.value) == 1


def test_count_and_digit_counts(examples):
    images, digits = examples
    assert len(images) == len(digits) == 1797
    assert collections.Counter(digits) == COUNTS


def test_digits_are_spec_classes(spec, examples):
    _, digits = examples
    assert {str(digit) for digit in digits} <= set(spec.label.classes)


def test_images_shape_and_range(examples):
    images, _ = examples
    assert all(image.shape == (8, 8, 1) and image.dtype == np.uint8 for image in images)
    pixels = np.stack(images)
    assert pixels.min() == 0
    assert pixels.max() == 255


def test_first_image_is_scaled_source():
    # Compared with the source, not with build.py's code, so a wrong scaling there shows up here.
    expected = np.round(load_digits().images[0] * 255 / 16)[:, :, np.newaxis]
    dataset = tf.data.TFRecordDataset(str(DIGITS / "data.tfrecord.gz"), compression_type="GZIP")
    first = tf.io.parse_single_example(next(iter(dataset)), FEATURES)
    pixels = tf.io.parse_tensor(first["image"], out_type=tf.uint8).numpy()
    np.testing.assert_array_equal(pixels, expected.astype(np.uint8))
    assert int(first["digit"]) == load_digits().target[0] == 0
