"""Names the pipeline and its components agree on: `custom_config` keys and run file names.

Both sides import them from here, so a key or a file name is spelled once; like TFX's
`standard_component_specs`, this module holds names only and imports nothing.

A run's output folder (`deepline run --output DIR`):

    DIR/summary.json           the run summary (`pipeline.summary`), read by `deepline report`
    DIR/report.html            the HTML report (`pipeline.report`)
    DIR/metadata.sqlite        ML Metadata of the local runs
    DIR/pipeline/              TFX's pipeline root: one folder per component
    DIR/serving_model/NAME/    pushed models, one version folder each
    DIR/runs.jsonl             `deepline schedule`'s log, one line per run
    DIR/.deepline-run.lock     held by the `deepline run` writing to DIR (`pipeline.run_lock`)

and inside the artifacts: the Trainer's `history.json` in its ModelRun folder, the
ingestion ExampleGen's `ingestion_summary.json` next to the splits.
"""

# --- custom_config keys of the Transform, Trainer and Tuner components -------------------
# The Trainer's (and the Tuner's base) hyperparameters, as `HParams.to_dict()`.
HPARAMS_KEY = "hparams"
# The `--model` choice (`components.trainer.families.MODEL_CHOICES`).
MODEL_KEY = "model"
# Hash of the module code the components run: changed code is a cache miss.
CODE_FINGERPRINT_KEY = "code_fingerprint"
# The Tuner's search budget: trials, and epochs of each trial.
MAX_TRIALS_KEY = "max_trials"
EPOCHS_PER_TRIAL_KEY = "epochs_per_trial"
# The data set spec as plain data, and where it was read from (for messages); the
# components read both with `components.dataset.spec_from_custom_config`.
SPEC_KEY = "spec"
SPEC_ORIGIN_KEY = "spec_origin"
# The ingestion ExampleGen's custom_config holds strings only: both of the above, as JSON.
EXAMPLE_GEN_SPEC_KEY = "spec_json"

# --- run files ------------------------------------------------------------------------------
SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.html"
METADATA_FILE = "metadata.sqlite"
PIPELINE_FOLDER = "pipeline"
SERVING_FOLDER = "serving_model"
SCHEDULE_LOG_FILE = "runs.jsonl"
# Locked by the one `deepline run` writing to an output folder; says its pid, host, start.
RUN_LOCK_FILE = ".deepline-run.lock"
# `deepline schedule`'s own lock: one scheduler per output folder.
SCHEDULE_LOCK_FILE = ".deepline-schedule.lock"
# Written by the Trainer (`components.trainer.run`) into its ModelRun artifact.
HISTORY_FILE = "history.json"
# Written by the ingestion ExampleGen into its Examples artifact.
INGESTION_SUMMARY_FILE = "ingestion_summary.json"
