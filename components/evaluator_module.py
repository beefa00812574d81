"""The Evaluator's module (TFX `Evaluator(module_path=...)`): TFMA's model loader, with the
ops a served model may need registered first in the process that loads it.

TFMA loads the candidate and the live model inside Beam workers, which may be other
processes than the one that built the pipeline; the loader's constructor travels to them
pickled, and `serving_ops.WithServingOps` registers TF-DF's ops there before the
SavedModel is read (`components.serving_ops`).
"""

from __future__ import annotations

import tensorflow_model_analysis as tfma

from components.serving_ops import WithServingOps

MODULE_PATH = __name__


def custom_eval_shared_model(eval_saved_model_path, model_name, eval_config, **kwargs):
    """TFMA's default shared model, its loader wrapped to register the serving ops.

    Args:
      eval_saved_model_path: The SavedModel to evaluate.
      model_name: Its name in the eval config ("candidate" or "baseline").
      eval_config: The TFMA `EvalConfig`.
      **kwargs: What TFX passes on to `tfma.default_eval_shared_model`.

    Returns:
      A `tfma.types.EvalSharedModel`.
    """
    shared = tfma.default_eval_shared_model(
        eval_saved_model_path=eval_saved_model_path,
        model_name=model_name,
        eval_config=eval_config,
        **kwargs,
    )
    loader = shared.model_loader
    return shared._replace(
        model_loader=tfma.types.ModelLoader(
            construct_fn=WithServingOps(loader.construct_fn), tags=loader.tags
        )
    )
