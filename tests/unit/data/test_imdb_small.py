"""Bundled IMDB reviews: the spec loads as declared and data.csv has the measured contents."""

import collections
import statistics
from pathlib import Path

from components.dataset import (
    Kind,
    Task,
    TextStandardize,
    TextTokenize,
    TextTransform,
)

DATASET = Path(__file__).parents[3] / "data" / "imdb-small"


def test_spec_label(spec):
    assert spec.name == "imdb-small"
    assert spec.label.column == "label"
    assert spec.label.kind is Task.BINARY
    assert spec.label.derive is None
    assert spec.label.classes == ()


def test_spec_text_feature(spec):
    (review,) = spec.features
    assert review.name == "review"
    assert review.kind is Kind.TEXT
    assert review.transform is TextTransform.TFIDF
    assert review.standardize is TextStandardize.LOWER_AND_STRIP_PUNCTUATION
    assert review.tokenize is TextTokenize.WHITESPACE
    assert review.vocabulary_size == 2000


def test_spec_source_slices_split(spec):
    assert spec.source.path == "data.csv"
    assert spec.slices == ()
    assert spec.split.key is None
    assert (spec.split.train, spec.split.eval, spec.split.test) == (0.7, 0.15, 0.15)


def test_header(table):
    header, _ = table
    assert header == ["review", "label"]


def test_header_is_declared_columns_plus_label(spec, table):
    header, _ = table
    assert set(header) == set(spec.feature_names) | {spec.label.column}


def test_rows_and_label_counts(table):
    header, rows = table
    assert len(rows) == 100
    assert all(len(row) == len(header) for row in rows)
    assert collections.Counter(table.column("label")) == {"0": 54, "1": 46}


def test_labels_are_zero_or_one(table):
    assert set(table.column("label")) <= {"0", "1"}


def test_reviews(table):
    reviews = table.column("review")
    assert all(review.strip() for review in reviews)
    assert len(set(reviews)) == 100
    lengths = [len(review.split()) for review in reviews]
    assert (min(lengths), statistics.median(lengths), max(lengths)) == (57, 169.5, 678)
    distinct = {token for review in reviews for token in review.lower().split()}
    assert len(distinct) == 6009
    # HTML line breaks are kept as in the source.
    assert sum("<br />" in review for review in reviews) == 63
