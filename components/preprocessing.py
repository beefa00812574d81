"""TF Transform `preprocessing_fn`: the feature engineering baked into the served model.

Every statistic used here (means, variances, quantiles, vocabularies) is
computed once by Transform's analyzers over the training split and saved as
constants in the transform graph; the Trainer puts that graph inside the
exported model, so serving applies exactly the same transformation as training.

Missing values are handled explicitly: a numeric value that is absent is
standardized as if it were the mean (0 after z-scoring) and flagged in
`<name>_missing_xf`; a missing categorical value becomes its own id.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from components import dataset
from components.dataset import (
    CategoricalTransform,
    ImageEncoding,
    ImageTransform,
    NumericTransform,
    TextStandardize,
    TextTokenize,
    TextTransform,
    transformed_name,
)

MISSING_TOKEN = "__missing__"


def _to_dense(tensor, default_value):
    """Densifies a rank-2 (batch, 0 or 1) feature to shape (batch,).

    Raw features whose schema allows them to be absent arrive as SparseTensors
    whose second dimension is 0 when no row of the batch has the value; the
    reshape to width 1 makes that case work too.
    """
    if isinstance(tensor, tf.SparseTensor):
        tensor = tf.sparse.to_dense(
            tf.SparseTensor(tensor.indices, tensor.values, [tensor.dense_shape[0], 1]),
            default_value=default_value,
        )
    elif isinstance(tensor, tf.RaggedTensor):
        tensor = tensor.to_tensor(default_value=default_value, shape=[None, 1])
    return tf.reshape(tensor, [-1])


def _is_missing(tensor):
    """Returns a float (batch,) tensor: 1.0 where the feature had no value."""
    if isinstance(tensor, tf.SparseTensor):
        present = tf.sparse.to_dense(
            tf.SparseTensor(
                tensor.indices,
                tf.ones_like(tensor.values, dtype=tf.float32),
                [tensor.dense_shape[0], 1],
            )
        )
        return 1.0 - tf.reshape(present, [-1])
    batch = tf.shape(tensor)[0]
    return tf.zeros([batch], tf.float32)


def _as_float(tensor):
    if isinstance(tensor, tf.SparseTensor):
        return tf.SparseTensor(
            tensor.indices, tf.cast(tensor.values, tf.float32), tensor.dense_shape
        )
    return tf.cast(tensor, tf.float32)


def _map_values(tensor, fn):
    if isinstance(tensor, tf.SparseTensor):
        return tf.SparseTensor(tensor.indices, fn(tensor.values), tensor.dense_shape)
    return fn(tensor)


def scale_numeric_feature(raw, feature: dataset.NumericFeature):
    """Scales (z-score or min-max) or bucketizes a numeric feature.

    Without a fill value, the analyzers see only present values (missing rows
    do not pull the statistics towards a fill value), a missing value takes
    the training mean of the output (0 after z-scoring), and a missing flag is
    added. With one, missing cells take it first, and there is no flag.

    Returns:
      A dict of transformed name -> dense (batch,) tensor: the scaled value
      (or bucket id, `buckets` when missing), the missing flag, and, when the
      feature asks for it, its quantile bucket view (bucket `buckets` for a
      missing value).
    """
    values = _as_float(raw)
    if feature.fill is not None:
        values = _to_dense(values, float(feature.fill))
    if feature.log1p:
        values = _map_values(values, lambda v: tf.math.log1p(tf.maximum(v, 0.0)))
    name = transformed_name(feature.name)
    missing_bucket = tf.constant(feature.buckets, tf.int64)
    if feature.transform is NumericTransform.BUCKETIZE:
        outputs = {name: _to_dense(tft.bucketize(values, feature.buckets), missing_bucket)}
    else:
        # A missing value (only possible without a fill) takes the mean: 0 as a z-score.
        if feature.transform is NumericTransform.MINMAX:
            scaled = tft.scale_to_0_1(values)
            outputs = {name: _to_dense(scaled, tft.mean(scaled))}
        else:
            outputs = {name: _to_dense(tft.scale_to_z_score(values), 0.0)}
        if feature.buckets:
            bucket = tft.bucketize(values, feature.buckets)
            outputs[transformed_name(feature.name + "_bucket")] = _to_dense(bucket, missing_bucket)
    if feature.fill is None:
        outputs[transformed_name(feature.name + "_missing")] = _is_missing(raw)
    return outputs


def encode_categorical_feature(raw, feature: dataset.CategoricalFeature):
    """Turns a categorical feature into dense int64 ids of shape (batch,)."""
    if feature.transform is CategoricalTransform.IDENTITY:
        missing_id = feature.num_values
        ids = _to_dense(_map_values(raw, lambda v: tf.cast(v, tf.int64)), -1)
        ids = ids - feature.offset
        # Out-of-range values share the missing id rather than crash the lookup.
        in_range = (ids >= 0) & (ids < feature.num_values)
        missing = _is_missing(raw) > 0
        return tf.where(in_range & ~missing, ids, tf.constant(missing_id, tf.int64))

    strings = _map_values(raw, lambda v: v if v.dtype == tf.string else tf.strings.as_string(v))
    strings = _to_dense(strings, MISSING_TOKEN)
    if feature.transform is CategoricalTransform.VOCABULARY:
        return tft.compute_and_apply_vocabulary(
            strings,
            top_k=feature.top_k,
            frequency_threshold=feature.frequency_threshold or None,
            num_oov_buckets=feature.oov_buckets,
            vocab_filename=feature.name,
        )
    return tft.hash_strings(strings, feature.bins)


def _tokens(raw, feature: dataset.TextFeature):
    """Standardized tokens of each value: a (batch, None) RaggedTensor; missing is no tokens."""
    strings = _map_values(raw, lambda v: v if v.dtype == tf.string else tf.strings.as_string(v))
    strings = _to_dense(strings, "")
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


def _tfidf(tokens, feature: dataset.TextFeature):
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


def text_feature(raw, feature: dataset.TextFeature):
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


def image_feature(raw, feature: dataset.ImageFeature):
    """Decodes, resizes and scales an image column.

    Returns:
      float32 (batch, height * width * channels): the pixels, row by row,
      rescaled to [0, 1] or standardized per image; a missing image is all 0.
    """
    shape = feature.shape
    encoded = _to_dense(raw, "")

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


def make_label(inputs, label: dataset.LabelSpec):
    """Returns the (batch,) label the model is trained on.

    A derived label is its comparison (`label.derive`, e.g. `tips > 0.2 *
    fare`) as int64 0 / 1, a missing value counting as 0; a class label is
    the index of its value in `label.classes` (int64; -1 for a value outside
    them, which ingestion quarantines) or, for a binary label without
    classes, the 0 / 1 value itself; a regression label is its float32 value.
    """
    if label.derive is not None:
        columns = {c: _to_dense(_as_float(inputs[c]), 0.0) for c in label.derive.columns}
        return tf.cast(label.derive.evaluate_tensor(columns), tf.int64)
    raw = inputs[label.column]
    if label.kind is dataset.Task.REGRESSION:
        return _to_dense(_as_float(raw), 0.0)
    if not label.classes:
        return _to_dense(_map_values(raw, lambda v: tf.cast(v, tf.int64)), -1)
    values = _map_values(raw, lambda v: v if v.dtype == tf.string else tf.strings.as_string(v))
    values = _to_dense(values, "")
    matches = tf.equal(tf.expand_dims(values, -1), tf.constant(label.classes)[tf.newaxis, :])
    index = tf.argmax(tf.cast(matches, tf.int64), axis=-1)
    return tf.where(tf.reduce_any(matches, axis=-1), index, tf.constant(-1, tf.int64))


def transform_features(inputs, spec: dataset.DatasetSpec):
    """Applies the spec's transforms to a dict of raw feature tensors.

    The label is produced only when its source columns are present, so the
    same function serves training (label in) and serving (label absent).
    """
    outputs = {}
    for feature in spec.numeric:
        outputs.update(scale_numeric_feature(inputs[feature.name], feature))
    for feature in spec.categorical:
        outputs[transformed_name(feature.name)] = encode_categorical_feature(
            inputs[feature.name], feature
        )
    for feature in spec.text:
        outputs[transformed_name(feature.name)] = text_feature(inputs[feature.name], feature)
    for feature in spec.images:
        outputs[transformed_name(feature.name)] = image_feature(inputs[feature.name], feature)
    if all(column in inputs for column in spec.label.source_columns):
        outputs[spec.label_key] = make_label(inputs, spec.label)
    return outputs


def preprocessing_fn(inputs, custom_config):
    """TFX Transform entry point: the transforms the data set spec asks for.

    Args:
      inputs: Map from raw column name to a (Sparse)Tensor, as parsed with the
        raw schema.
      custom_config: The Transform component's custom_config; the pipeline
        puts the data set spec in it (`components.dataset.to_custom_config`).

    Returns:
      Map from transformed feature name (`<name>_xf`) to a dense tensor.
    """
    return transform_features(inputs, dataset.spec_from_custom_config(custom_config))
