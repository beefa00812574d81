"""Drafts a data set spec from a sample of a data file: a starting point for a person to review.

Reads the profile of every column of a `profiling.Sample` (the first rows of a
file as text cells, read by `components.ingestion.sample.read_sample` from any input
format; deterministic: the same file always gives the same draft) and picks a kind per
column by the first rule that matches:

1. No value, or a single distinct value, in the sample → ignore.
2. Integers from 0 or 1 spanning at most `IDENTITY_MAX_VALUES` → categorical identity
   (one-hot when at most `ONE_HOT_MAX_VALUES` values).
3. Positive integers clustered far from zero (spread / mean below
   `CODE_MAX_RELATIVE_SPREAD`, e.g. census tracts, postal codes) with at most
   `INTEGER_CATEGORY_MAX_VALUES` distinct values → codes: categorical vocabulary.
4. Other integers with at most `INTEGER_CATEGORY_MAX_VALUES` distinct values (and a
   distinct ratio of at most `CATEGORY_MAX_DISTINCT_RATIO`), e.g. an age or a count →
   numeric, piecewise-linear over quantile buckets (at most `ORDERED_INTEGER_MAX_BUCKETS`).
5. Integers, all different → ignore: a row key (suggested as `split.key`).
6. More codes as in rule 3 → categorical, by the string rules 8 and 11.
7. Other numbers → numeric z-score, after log1p when never negative and
   skewed by at least `LOG1P_MIN_SKEW`.
8. Strings with at most `VOCABULARY_MAX_DISTINCT` distinct values (distinct ratio
   at most `CATEGORY_MAX_DISTINCT_RATIO`) → categorical vocabulary, one-hot when at
   most `ONE_HOT_MAX_VALUES` values; also a slice when at most `SLICE_MAX_DISTINCT`
   (at most `SLICE_MAX_COLUMNS` slice columns: those with the fewest values).
9. Strings of more than `TEXT_MIN_MEAN_TOKENS` words on average → text.
10. Strings, all different → ignore: a row key.
11. Other strings (high-cardinality ids) → categorical hash.

Why rule 4: an integer with a few dozen values (an age, years at a company, a count of
messages) is a quantity whose order matters. As a vocabulary, each value would be an
unrelated id whose embedding learns only from its own rows, and a value unseen in
training would fall into an OOV bucket; a z-score alone gives the network one straight
line to bend. Piecewise-linear encoding over quantile buckets (Gorishniy et al. 2022)
keeps the order and lets each bucket have its own slope; TF Transform computes the
buckets, so serving applies the training ones. log1p is left out there: quantile
buckets do not change under a monotone transform.

The label's kind: two values → binary; non-integer numbers → regression; at
most `MULTICLASS_MAX_CLASSES` values → multiclass; more integers → regression.
"""

from __future__ import annotations

import math
import os

from components.dataset import features as fs
from components.dataset.dumping import dump_spec
from components.dataset.label import LabelSpec, Task
from components.dataset.model import DatasetSpec
from components.dataset.options import CategoricalEncoding, CategoricalTransform, NumericTransform
from components.dataset.profiling import MAX_LISTED_VALUES, ColumnProfile, Sample, read_profiles
from components.dataset.source import SourceSpec, SplitSpec

IDENTITY_MAX_VALUES = 32  # e.g. hours (24), days (7), months (12)
INTEGER_CATEGORY_MAX_VALUES = 100  # more distinct integers: z-scored quantities or codes
# Piecewise-linear buckets of an ordered integer (rule 4): one per gap between its distinct
# values, at most this many, so each bucket still holds a few percent of the rows.
ORDERED_INTEGER_MAX_BUCKETS = 16
# Categories read one-hot instead of through an embedding: with so few, a learned
# embedding saves nothing and starts from small random vectors; one-hot inputs are
# usable from the first step (RealMLP, Holzmueller et al. 2024, one-hot up to 8).
ONE_HOT_MAX_VALUES = 8
CATEGORY_MAX_DISTINCT_RATIO = 0.5  # more distinct values per row read as ids or text
CODE_MAX_RELATIVE_SPREAD = 0.01  # std / mean of numbers that are codes, not quantities
VOCABULARY_MAX_DISTINCT = 1000
VOCABULARY_HEADROOM = 2  # top_k = this x distinct values seen, for values yet to come
SLICE_MAX_DISTINCT = 100  # more slices than this are unreadable in a report
# Every slice column multiplies the Evaluator's per-row work (TFMA's metrics run once per
# row and slice it falls in) and adds each of its values' full metrics and plots: on a
# 5,000-row CSV with eight such columns (127 slices) the Evaluator's own work took twice
# its time with two (README, "Where the seconds go"). The fewest-valued columns make the
# largest slices, whose metrics say the most; others are one line away in the spec.
SLICE_MAX_COLUMNS = 3
TEXT_MIN_MEAN_TOKENS = 3.0
TEXT_MAX_VOCABULARY = 10_000
# Skew above 1 is commonly read as a long tail (incomes, areas, amounts): log1p then keeps
# a few large values from squeezing the z-scores of the rest near the mean.
LOG1P_MIN_SKEW = 1.0
# The profile lists every class of such a label.
MULTICLASS_MAX_CLASSES = MAX_LISTED_VALUES


def _is_row_key(p: ColumnProfile) -> bool:
    """Whole numbers or strings, every one different: identifies rows, predicts nothing."""
    return p.present > 1 and p.distinct == p.present and (p.integral or not p.numeric)


def _next_power_of_two(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(n, 1))))


def _vocabulary_top_k(distinct: int) -> int:
    return math.ceil(VOCABULARY_HEADROOM * distinct / 10) * 10


def _encoding(values: int) -> tuple[CategoricalEncoding, str]:
    """One-hot for at most `ONE_HOT_MAX_VALUES` values, else an embedding; and the reason."""
    if values <= ONE_HOT_MAX_VALUES:
        return CategoricalEncoding.ONE_HOT, ", one-hot"
    return CategoricalEncoding.EMBEDDING, ""


def _categorical_by_count(p: ColumnProfile, what: str) -> tuple[fs.Feature, str]:
    """Rules 8 and 11 (strings and codes): a vocabulary when few, else hashing."""
    if p.distinct <= VOCABULARY_MAX_DISTINCT and p.distinct_ratio <= CATEGORY_MAX_DISTINCT_RATIO:
        top_k = _vocabulary_top_k(p.distinct)
        encoding, how = _encoding(p.distinct)
        spec = fs.CategoricalFeature(
            p.name, CategoricalTransform.VOCABULARY, top_k=top_k, encoding=encoding
        )
        return spec, f"{p.distinct:,} distinct {what} → vocabulary, top_k {top_k}{how}"
    bins = _next_power_of_two(p.distinct)
    spec = fs.CategoricalFeature(p.name, CategoricalTransform.HASH, bins=bins)
    return spec, f"{p.distinct:,} distinct {what} → hashed into {bins} bins"


def infer_feature(p: ColumnProfile) -> tuple[fs.Feature, str]:
    """Picks a feature spec for one column by the rules in the module docstring.

    Args:
      p: The column's profile.

    Returns:
      The feature spec and a one-line reason, e.g. "7 distinct strings → vocabulary, top_k 20".
    """
    if p.present == 0:
        return fs.IgnoredColumn(p.name), "no value in the sample → ignored"
    if p.distinct == 1:
        return fs.IgnoredColumn(p.name), (
            f"a single value, in {p.present:,} of {p.rows:,} rows → ignored"
        )
    if p.numeric and p.integral:
        low, high = int(p.minimum), int(p.maximum)
        if low in (0, 1) and high - low + 1 <= IDENTITY_MAX_VALUES:
            values = high - low + 1
            encoding, how = _encoding(values)
            spec = fs.CategoricalFeature(
                p.name,
                CategoricalTransform.IDENTITY,
                num_values=values,
                offset=low,
                encoding=encoding,
            )
            return spec, f"integers {low}..{high} → identity ids ({values} values{how})"
        codes = p.minimum > 0 and p.std / p.mean < CODE_MAX_RELATIVE_SPREAD
        if (
            p.distinct <= INTEGER_CATEGORY_MAX_VALUES
            and p.distinct_ratio <= CATEGORY_MAX_DISTINCT_RATIO
        ):
            if codes:
                return _categorical_by_count(p, f"codes around {p.mean:.3g}")
            buckets = max(2, min(ORDERED_INTEGER_MAX_BUCKETS, p.distinct - 1))
            spec = fs.NumericFeature(p.name, NumericTransform.PIECEWISE_LINEAR, buckets=buckets)
            return spec, (
                f"{p.distinct:,} distinct integers {low}..{high}, ordered → piecewise-linear "
                f"over {buckets} quantile buckets"
            )
        if _is_row_key(p):
            return fs.IgnoredColumn(p.name), "every value different → ignored (a row key)"
        if codes:
            return _categorical_by_count(p, f"codes around {p.mean:.3g}")
    if p.numeric:
        if p.minimum >= 0 and p.skew >= LOG1P_MIN_SKEW:
            spec = fs.NumericFeature(p.name, log1p=True)
            return spec, f"numbers ≥ 0 with skew {p.skew:.1f} → log1p, then z-score"
        return fs.NumericFeature(p.name), f"numbers, skew {p.skew:.1f} → z-score"
    if p.distinct <= VOCABULARY_MAX_DISTINCT and p.distinct_ratio <= CATEGORY_MAX_DISTINCT_RATIO:
        return _categorical_by_count(p, "strings")
    if p.mean_tokens > TEXT_MIN_MEAN_TOKENS:
        max_tokens = _next_power_of_two(p.p95_tokens)
        vocabulary_size = min(TEXT_MAX_VOCABULARY, _next_power_of_two(p.distinct_tokens))
        spec = fs.TextFeature(p.name, vocabulary_size=vocabulary_size, max_tokens=max_tokens)
        return spec, (
            f"{p.mean_tokens:.1f} words per value on average → text: token ids, "
            f"{vocabulary_size} words, {max_tokens} tokens"
        )
    if _is_row_key(p):
        return fs.IgnoredColumn(p.name), "every value different → ignored (a row key)"
    return _categorical_by_count(p, "strings")


def infer_label(p: ColumnProfile, source: str) -> tuple[LabelSpec, str]:
    """Picks the label's kind (and classes) from its values.

    Args:
      p: The label column's profile.
      source: Names the data in error messages.

    Returns:
      The label spec and a one-line reason.

    Raises:
      ValueError: The label has fewer than 2 values, or too many string values
        to be classes.
    """
    missing = f"; {p.rows - p.present:,} rows without a label" if p.present < p.rows else ""
    if p.distinct < 2:
        raise ValueError(
            f"{source}: label column {p.name!r} has {p.distinct} distinct value(s) in the "
            f"first {p.rows:,} rows; nothing to learn. Choose another label column."
        )
    if p.distinct == 2:
        spec = LabelSpec(p.name, Task.BINARY, classes=p.values)
        return spec, f"2 values {list(p.values)} → binary{missing}"
    if p.numeric and not p.integral:
        spec = LabelSpec(p.name, Task.REGRESSION)
        return spec, f"{p.distinct:,} distinct non-integer numbers → regression{missing}"
    if p.distinct <= MULTICLASS_MAX_CLASSES:
        spec = LabelSpec(p.name, Task.MULTICLASS, classes=p.values)
        return spec, f"{p.distinct} classes → multiclass{missing}"
    if p.numeric:
        spec = LabelSpec(p.name, Task.REGRESSION)
        return spec, f"{p.distinct:,} distinct integers → regression{missing}"
    raise ValueError(
        f"{source}: label column {p.name!r} has {p.distinct:,} distinct strings, more than "
        f"{MULTICLASS_MAX_CLASSES} classes; write its spec by hand or choose another label."
    )


def _data_name(path: str) -> str:
    """The file's name without its format's ending (and ".gz"): names the data set."""
    name = os.path.basename(path).removesuffix(".gz")
    return os.path.splitext(name)[0]


def _draft(sample: Sample, label: str) -> tuple[DatasetSpec, list[str], int]:
    path = sample.path
    profiles = read_profiles(sample)
    by_name = {p.name: p for p in profiles}
    if label not in by_name:
        raise ValueError(
            f"{path}: no column {label!r} to use as the label; columns: {list(by_name)}."
        )
    if len(profiles) < 2:
        raise ValueError(f"{path}: only the label column; a model needs input columns.")
    label_spec, label_reason = infer_label(by_name[label], path)
    reasons = [f"label {label}: {label_reason}"]
    features, keys = [], []
    sliceable: list[tuple[int, int, str]] = []  # (distinct values, position, name)
    for profile in profiles:
        if profile.name == label:
            continue
        feature, reason = infer_feature(profile)
        if (
            not profile.numeric
            and isinstance(feature, fs.CategoricalFeature)
            and feature.transform is CategoricalTransform.VOCABULARY
            and profile.distinct <= SLICE_MAX_DISTINCT
        ):
            sliceable.append((profile.distinct, len(reasons), profile.name))
        if isinstance(feature, fs.IgnoredColumn) and _is_row_key(profile) and not keys:
            keys.append(profile.name)
            reason += ", used as split.key"
        features.append(feature)
        reasons.append(f"{profile.name}: {reason}")
    chosen = {position: name for _, position, name in sorted(sliceable)[:SLICE_MAX_COLUMNS]}
    for _, position, _ in sliceable:
        reasons[position] += (
            "; slice"
            if position in chosen
            else f"; not a slice ({SLICE_MAX_COLUMNS} columns with fewer values are)"
        )
    slices = [chosen[position] for position in sorted(chosen)]  # in column order
    spec = DatasetSpec(
        source=SourceSpec(sample.format, os.path.basename(path), delimiter=sample.delimiter),
        label=label_spec,
        features=tuple(features),
        slices=tuple(slices),
        split=SplitSpec(key=keys[0] if keys else None),
        # Names the pipeline (deepline-<name>) and its serving folder.
        name=_data_name(path),
        origin=path,
    )
    return spec, reasons, sample.rows


def infer_spec(sample: Sample, label: str) -> DatasetSpec:
    """Drafts a spec for a sample of a data file; see the module docstring for the rules.

    Args:
      sample: The first rows of the file (its format and delimiter go to `source`).
      label: The column to predict.

    Returns:
      The draft spec; `source.path` is the file's name, i.e. the spec is meant
      to be saved next to the data.

    Raises:
      ValueError: The file or the label column cannot be used; the message says why.
    """
    return _draft(sample, label)[0]


def init_spec_text(sample: Sample, label: str) -> str:
    """The drafted spec as YAML to edit, with a header comment explaining each choice.

    Args:
      sample: The first rows of the file.
      label: The column to predict.

    Returns:
      YAML text that `components.dataset.load_spec` reads.

    Raises:
      ValueError: As `infer_spec`.
    """
    spec, reasons, rows = _draft(sample, label)
    name = os.path.basename(sample.path)
    header = [
        f"Data set spec drafted from {name} (first {rows:,} rows). Review every choice below;",
        f"save this file next to {name}: source.path is relative to it.",
        "",
        "Why each column got its kind:",
        *(f"  {reason}" for reason in reasons),
    ]
    if sample.delimiter != ",":
        header.insert(2, f"Fields are separated by {sample.delimiter!r} (source.delimiter).")
    comment = "\n".join(f"# {line}".rstrip() for line in header)
    return f"{comment}\n\n{dump_spec(spec)}"
