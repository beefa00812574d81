"""TFX Trainer entry point: `run_fn` trains the families `--model` names, chooses on the
eval split, and exports the chosen model.

The families are a table (`components.trainer.families`); each returns a Keras model
over Transform's output that the export wraps with the Transform graph, so whichever
is chosen serves raw `tf.Example`s the same way.
"""

from __future__ import annotations

import json
import logging
import os
import time

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from components import dataset
from components.trainer import distribution, export, families, prediction_metrics, prepare, tflite
from components.trainer.families import selection
from components.trainer.families.base import Trained, TrainingContext
from components.trainer.heads import Head
from components.trainer.hparams import HParams
from pipeline.contracts import HISTORY_FILE, HPARAMS_KEY, MODEL_KEY

logger = logging.getLogger(__name__)

TFLITE_FOLDER = "tflite"
# Where the candidates that were not chosen are exported (same serving contract), in
# the Trainer's model-run folder, so the report can score each on the test split.
CANDIDATES_FOLDER = "candidates"


def run_fn(fn_args) -> None:
    """Trains the model(s) on Transform's output and exports the serving model.

    Args:
      fn_args: TFX `FnArgs`. `custom_config` holds `HParams.to_dict()` under "hparams",
        the `--model` choice under "model", and the data set spec
        (`components.dataset.to_custom_config`).
    """
    prepare.check_keras_mode()
    custom_config = fn_args.custom_config or {}
    base = HParams.from_dict(custom_config.get(HPARAMS_KEY, {}))
    strategy = distribution.choose_strategy()
    # With a Tuner upstream, its best trial's values override the searched fields.
    tuned = getattr(fn_args, "hyperparameters", None)
    if tuned:
        # Imported here: KerasTuner (and the Keras 3 it loads) only when tuning ran.
        from components.trainer import tuning

        hparams = tuning.best_hparams(base, tuned)
    else:
        replicas = strategy.num_replicas_in_sync
        hparams = prepare.fit_batch_to_data(base, fn_args.train_files, replicas).resolve()
    spec = dataset.spec_from_custom_config(custom_config)
    plan = families.plan(custom_config.get(MODEL_KEY, families.AUTO), hparams, bool(tuned), spec)
    head = Head.for_spec(spec)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    features = spec.transformed_features()

    keras.mixed_precision.set_global_policy(distribution.choose_precision())
    train_ds, eval_ds = prepare.make_datasets(
        fn_args.train_files,
        fn_args.eval_files,
        tf_transform_output,
        spec,
        hparams,
        hparams.batch_size * strategy.num_replicas_in_sync,
    )
    context = TrainingContext(
        spec=spec,
        head=head,
        hparams=hparams,
        features=features,
        cardinalities=prepare.categorical_cardinalities(features, tf_transform_output),
        train_ds=train_ds,
        eval_ds=eval_ds,
        strategy=strategy,
        run_dir=fn_args.model_run_dir,
        tf_transform_output=tf_transform_output,
        base_model=fn_args.base_model or None,
    )
    for why in plan.left_out.values():
        logger.info("--model %s: %s, so it is not a candidate.", plan.choice, why)
    trained: dict[str, Trained] = {}
    seconds: dict[str, float] = {}
    for name in plan.families:
        keras.utils.set_random_seed(hparams.seed)
        started = time.monotonic()
        trained[name] = families.FAMILIES[name].load().train(context)
        seconds[name] = time.monotonic() - started
    candidates = selection.candidates(
        trained, seconds, eval_ds, head, ensemble=families.ENSEMBLE if plan.ensemble else None
    )
    if plan.select:
        chosen, reason = selection.choose(candidates, head)
    else:
        chosen, reason = candidates[-1], f"--model {plan.choice}"
    reason += selection.refit_note(chosen, trained)
    logger.info("Serving %s (%s).", chosen.name, reason)

    export.export_serving_model(
        chosen.model, tf_transform_output, spec, fn_args.serving_model_dir, hparams
    )
    exported = {}
    for candidate in candidates:
        if candidate is chosen or len(candidates) == 1:
            continue
        folder = os.path.join(fn_args.model_run_dir, CANDIDATES_FOLDER, candidate.name)
        export.export_serving_model(candidate.model, tf_transform_output, spec, folder)
        exported[candidate.name] = folder
    _write_history(fn_args.model_run_dir, plan, trained, candidates, chosen, reason, exported)

    network = trained[chosen.name].network if chosen.name in trained else None
    if hparams.tflite_copies and network is not None:
        # Next to the SavedModel, so they are pushed with it; the evaluation says
        # how much of the task's main metric each quantized copy gives up on the
        # eval split (accuracy, or RMSE for regression).
        comparison = tflite.write_copies(
            network, os.path.join(fn_args.serving_model_dir, TFLITE_FOLDER), eval_ds, task=head.task
        )
        metric = prediction_metrics.main_metric(head.task)
        for name, result in comparison.items():
            if name != "keras":
                logger.info(
                    "TFLite %s copy: %d bytes, eval %s %.4f (%+.4f vs the full model).",
                    name,
                    result["bytes"],
                    metric,
                    result[metric],
                    result[f"{metric}_diff"],
                )


def _write_history(run_dir, plan, trained, candidates, chosen, reason, exported) -> None:
    """The Trainer's record: the first family's training record at the top (the report's
    learning curves), and under "model" what was trained, scored and chosen."""
    first = plan.families[0]
    record = dict(trained[first].record)
    record["model"] = {
        "choice": plan.choice,
        "chosen": chosen.name,
        "reason": reason,
        "left_out": plan.left_out,
        "candidates": {
            c.name: {
                "eval": c.eval_metrics,
                "trainer_seconds": round(c.seconds, 2),
                "export": exported.get(c.name),
            }
            for c in candidates
        },
        "records": {name: t.record for name, t in trained.items() if name != first},
    }
    record["layers"] = export.layer_table(chosen.model)  # the served model's, for the report
    tf.io.gfile.makedirs(run_dir)
    with tf.io.gfile.GFile(os.path.join(run_dir, HISTORY_FILE), "w") as f:
        json.dump(record, f, indent=2)
