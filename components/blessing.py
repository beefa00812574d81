"""When the Evaluator blesses a candidate model: the thresholds, as a TF-free dataclass.

`components.evaluation.make_eval_config` turns them into TFMA thresholds; the
pipeline's configuration holds them without importing TFMA.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class BlessingThresholds:
    """When the Evaluator blesses a candidate model.

    Attributes:
      min_auc: The candidate's AUC on the evaluation split must reach this.
        Defaults to 0.90.
      min_accuracy: Its binary accuracy must reach this. Defaults to 0.85.
      min_auc_gain: Its AUC minus the live (latest blessed) model's AUC must be
        at least this; 0 means "no worse than the live model". Ignored on the
        first run, when there is no live model. Defaults to 0.0.
      max_rmse: Regression only: its root mean squared error must not exceed
        this, in the label's units. Defaults to None: no bar other than the
        live model's RMSE.

    A multiclass model must reach `min_accuracy`; binary thresholds on AUC
    do not apply to it, nor to a regression model.
    """

    min_auc: float = 0.90
    min_accuracy: float = 0.85
    min_auc_gain: float = 0.0
    max_rmse: float | None = None
