"""TFX's DistributionValidator executor, made to compare numbers over quantile buckets.

TFDV's Jensen–Shannon divergence of a numeric column is approximate: it puts both histograms
on common bucket boundaries assuming the values spread evenly within each bucket. On the
STANDARD histogram (10 buckets of equal width from the minimum to the maximum), one outlier
stretches every bucket, and that assumption fails badly for heavy-tailed columns: two random
halves of the bundled taxi data measure 0.31 (fare), 0.70 (trip_miles), 0.37 (trip_seconds),
next to 0.97 for fare ×100, so no threshold tells drift from noise. On the QUANTILES histogram
(10 buckets of equal mass) the buckets are narrow where the values are: the same halves
measure at most 0.15, fare ×2 0.33, fare ×100 0.93.

This executor therefore gives TFX's own executor copies of both statistics whose standard
histogram is the quantiles histogram, and changes nothing else: TFDV's comparators, the
split pairs, the anomalies and their files are TFX's.
"""

from __future__ import annotations

import copy
import os
import tempfile

import tensorflow as tf
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.components.distribution_validator import executor as distribution_validator
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs

_STATISTICS_KEYS = (
    standard_component_specs.STATISTICS_KEY,
    standard_component_specs.BASELINE_STATISTICS_KEY,
)


def with_quantile_histograms(
    statistics: statistics_pb2.DatasetFeatureStatisticsList,
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """A copy of `statistics` whose numeric columns' standard histogram is their quantiles one.

    A column without a quantiles histogram keeps its standard one.
    """
    result = statistics_pb2.DatasetFeatureStatisticsList()
    result.CopyFrom(statistics)
    for dataset in result.datasets:
        for feature in dataset.features:
            if not feature.HasField("num_stats"):
                continue
            histograms = feature.num_stats.histograms
            quantiles = [h for h in histograms if h.type == statistics_pb2.Histogram.QUANTILES]
            for histogram in histograms:
                if histogram.type == statistics_pb2.Histogram.STANDARD and quantiles:
                    histogram.CopyFrom(quantiles[0])
                    histogram.type = statistics_pb2.Histogram.STANDARD
    return result


def _quantile_copy(artifact, folder: str):
    """An ExampleStatistics artifact in `folder` with `with_quantile_histograms` of each split."""
    result = standard_artifacts.ExampleStatistics()
    result.set_mlmd_artifact(copy.deepcopy(artifact.mlmd_artifact))
    result.uri = folder
    for split in artifact_utils.decode_split_names(artifact.split_names):
        statistics = stats_artifact_utils.load_statistics(artifact, split).proto()
        split_folder = artifact_utils.get_split_uri([result], split)
        tf.io.gfile.makedirs(split_folder)
        path = os.path.join(split_folder, stats_artifact_utils.BINARY_PB_BASENAME)
        with tf.io.gfile.GFile(path, "wb") as f:
            f.write(with_quantile_histograms(statistics).SerializeToString())
    return result


class Executor(distribution_validator.Executor):
    """DistributionValidator's executor over quantile histograms (see the module docstring)."""

    def Do(self, input_dict, output_dict, exec_properties):
        """Runs TFX's DistributionValidator on quantile-histogram copies of both statistics.

        Args:
          input_dict: `statistics` and `baseline_statistics` (ExampleStatistics).
          output_dict: `anomalies` (ExampleAnomalies).
          exec_properties: DistributionValidator's parameters.

        Returns:
          TFX's executor output.
        """
        with tempfile.TemporaryDirectory(prefix="quantile-statistics-") as scratch:
            inputs = dict(input_dict)
            for key in _STATISTICS_KEYS:
                inputs[key] = [
                    _quantile_copy(artifact, os.path.join(scratch, key, str(index)))
                    for index, artifact in enumerate(input_dict.get(key) or [])
                ]
            return super().Do(inputs, output_dict, exec_properties)
