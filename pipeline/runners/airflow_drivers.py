"""A driver the Airflow DAG gives its Evaluator: the candidate is never its own baseline.

TFX's AirflowDagRunner launches components with TFX's older, driver-based launcher, which
records each input artifact as one MLMD event per input key. When a run on unchanged data reuses
the Trainer's model from cache, that model is also the latest blessed one, so the Evaluator
would get the same artifact as `model` and as `baseline_model`, and ML Metadata 1.16 refuses the
second INPUT event of one artifact in one execution (`AlreadyExistsError`, then an
AssertionError in `register_execution`). TFX's newer orchestrators (LocalDagRunner, Vertex) do
not have this problem.

The driver drops the baseline when it is the candidate: there is nothing to compare a model with
but itself, and the Evaluator's inputs are then the previous run's (the same model, no other
baseline), so a run on unchanged data is a cache hit down to the Pusher.
"""

from __future__ import annotations

from tfx.dsl.components.base import base_driver

MODEL_KEY = "model"
BASELINE_MODEL_KEY = "baseline_model"


class CandidateIsNotBaselineDriver(base_driver.BaseDriver):
    """The Evaluator's driver under Airflow: the baseline is left out when it is the candidate."""

    def resolve_input_artifacts(self, input_dict, exec_properties, driver_args, pipeline_info):
        """Resolves the inputs as TFX's BaseDriver does, then drops a baseline equal to the model.

        Returns:
          The input artifacts by key; `baseline_model` empty when its artifacts are all among
          `model`'s.
        """
        resolved = super().resolve_input_artifacts(
            input_dict, exec_properties, driver_args, pipeline_info
        )
        candidates = {artifact.id for artifact in resolved.get(MODEL_KEY, [])}
        baseline = resolved.get(BASELINE_MODEL_KEY, [])
        if baseline and all(artifact.id in candidates for artifact in baseline):
            resolved[BASELINE_MODEL_KEY] = []
        return resolved
