"""Text features: standardized, tokenized, as padded token ids or TF-IDF weights."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from components.dataset import TextFeature, TextStandardize, TextTokenize, TextTransform
from components.transform.tensors import as_strings, to_dense


def _tokens(raw, feature: TextFeature):
    """Standardized tokens of each value: a (batch, None) RaggedTensor; missing is no tokens."""
    strings = as_strings(raw)
    strings = to_dense(strings, "")
    if feature.standardize is not TextStandardize.NONE:
        strings = tf.strings.lower(strings, encoding="utf-8")
    if feature.standardize is TextStandardize.LOWER_AND_STRIP_PUNCTUATION:
        strings = tf.strings.regex_replace(strings, r"[[:punct:]]", " ")
    if feature.tokenize is not TextTokenize.CHARACTERS:
        return tf.strings.split(strings)
    characters = tf.strings.unicode_split(strings, "UTF-8")
    # Whitespace separates; it is not a token (nor can a vocabulary file hold it).
    return tf.ragged.boolean_mask(
        characters, tf.logical_not(tf.strings.regex_full_match(characters, r"\s"))
    )


def _tfidf(tokens, feature: TextFeature):
    """TF-IDF weights (batch, vocabulary_size + 1) in a single analysis phase.

    TF Transform's `tft.tfidf` analyzes twice (the vocabulary, then document
    frequencies of its ids), and TFX 1.16's Transform cannot run a second
    phase on this Beam (its deep-copy optimization fails). So the vocabulary
    is built over each text's distinct tokens, which makes a token's count
    its document frequency: one vocabulary gives the ids, its twin with
    frequencies the document frequency of each id. Tokens outside the
    vocabulary share the last column, counted as in one text (rare words).

    tf = occurrences / tokens in the text; idf = 1 + ln((1 + texts) / (1 + df)).
    """
    size = feature.vocabulary_size + feature.OOV_BUCKETS
    rows, flat = tokens.value_rowids(), tokens.flat_values
    # Each (text, token) pair once; the separator cannot occur in the row number.
    pairs = tf.unique(tf.strings.join([tf.strings.as_string(rows), flat], separator=" ")).y
    distinct = tf.strings.split(pairs, sep=" ", maxsplit=1).to_tensor("", shape=[None, 2])[:, 1]
    vocabulary = tft.vocabulary(
        distinct, top_k=feature.vocabulary_size, vocab_filename=feature.name
    )
    frequencies = tft.vocabulary(
        distinct,
        top_k=feature.vocabulary_size,
        vocab_filename=feature.name + "_df",
        store_frequency=True,
    )
    texts = tf.cast(tft.size(tf.ones_like(tokens.row_lengths())), tf.float32)
    # Line i of the frequency file is "<document frequency> <token i>".
    df_table = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(
            frequencies,
            tf.int64,
            tf.lookup.TextFileIndex.LINE_NUMBER,
            tf.int64,
            0,
            delimiter=" ",
        ),
        default_value=1,
    )
    ids = tft.apply_vocabulary(flat, vocabulary, num_oov_buckets=feature.OOV_BUCKETS)
    columns = tf.where(ids >= df_table.size(), tf.constant(size - 1, tf.int64), ids)
    batch = tf.cast(tokens.nrows(), tf.int64)
    counts = tf.scatter_nd(
        tf.stack([rows, columns], axis=1), tf.ones_like(flat, tf.float32), [batch, size]
    )
    lengths = tf.maximum(tf.cast(tokens.row_lengths(), tf.float32), 1.0)
    df = tf.cast(df_table.lookup(tf.range(size, dtype=tf.int64)), tf.float32)
    idf = 1.0 + tf.math.log((1.0 + texts) / (1.0 + df))
    return counts / lengths[:, tf.newaxis] * idf[tf.newaxis, :]


def text_feature(raw, feature: TextFeature):
    """Standardizes, tokenizes and maps a text column through its vocabulary.

    A missing value is the empty text (no tokens).

    Returns:
      token_ids: int64 (batch, max_tokens): id 0 pads, 1..V are the vocabulary
        by frequency, V + 1 the out-of-vocabulary bucket; tokens past
        max_tokens are cut.
      tfidf: float32 (batch, vocabulary_size + 1): the TF-IDF weight of each
        vocabulary id (the last column is the out-of-vocabulary bucket), 0 for
        absent tokens; see `_tfidf`.
    """
    tokens = _tokens(raw, feature)
    if feature.transform is TextTransform.TFIDF:
        return _tfidf(tokens, feature)
    ids = tft.compute_and_apply_vocabulary(
        tokens.to_sparse(),
        top_k=feature.vocabulary_size,
        num_oov_buckets=feature.OOV_BUCKETS,
        vocab_filename=feature.name,
    )
    shifted = tf.SparseTensor(ids.indices, ids.values + 1, ids.dense_shape)
    return tf.RaggedTensor.from_sparse(shifted)[:, : feature.max_tokens].to_tensor(
        default_value=0, shape=[None, feature.max_tokens]
    )
