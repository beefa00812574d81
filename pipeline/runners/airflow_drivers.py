"""Drivers the Airflow DAG gives its Evaluator and its DistributionValidator: no artifact is
both the candidate and its baseline.

TFX's AirflowDagRunner launches components with TFX's older, driver-based launcher, which
records each input artifact as one MLMD event per input key. When a run on unchanged data reuses
the Trainer's model from cache, that model is also the latest blessed one, so the Evaluator
would get the same artifact as `model` and as `baseline_model`, and ML Metadata 1.16 refuses the
second INPUT event of one artifact in one execution (`AlreadyExistsError`, then an
AssertionError in `register_execution`). TFX's newer orchestrators (LocalDagRunner, Vertex) do
not have this problem. The drift check meets it too: on a first run, and on unchanged data, the
DistributionValidator's baseline statistics are this run's own (`components.drift.baseline`).

The drivers drop the baseline when it is the candidate: there is nothing to compare with but
itself (DistributionValidator then compares nothing, as it does without a baseline), and the
inputs are then the previous run's, so a run on unchanged data is a cache hit down to the Pusher.
"""

from __future__ import annotations

from tfx.dsl.components.base import base_driver

MODEL_KEY = "model"
BASELINE_MODEL_KEY = "baseline_model"
STATISTICS_KEY = "statistics"
BASELINE_STATISTICS_KEY = "baseline_statistics"


class CandidateIsNotBaselineDriver(base_driver.BaseDriver):
    """The Evaluator's driver under Airflow: the baseline is left out when it is the candidate."""

    CANDIDATE_KEY = MODEL_KEY
    BASELINE_KEY = BASELINE_MODEL_KEY

    def resolve_input_artifacts(self, input_dict, exec_properties, driver_args, pipeline_info):
        """Resolves the inputs as TFX's BaseDriver does, then drops a baseline equal to the model.

        Returns:
          The input artifacts by key; `baseline_model` empty when its artifacts are all among
          `model`'s.
        """
        resolved = super().resolve_input_artifacts(
            input_dict, exec_properties, driver_args, pipeline_info
        )
        candidates = {artifact.id for artifact in resolved.get(self.CANDIDATE_KEY, [])}
        baseline = resolved.get(self.BASELINE_KEY, [])
        if baseline and all(artifact.id in candidates for artifact in baseline):
            resolved[self.BASELINE_KEY] = []
        return resolved


class CurrentIsNotBaselineStatisticsDriver(CandidateIsNotBaselineDriver):
    """DistributionValidator's driver under Airflow: no baseline when it is this run's."""

    CANDIDATE_KEY = STATISTICS_KEY
    BASELINE_KEY = BASELINE_STATISTICS_KEY
