"""The Keras Trainer, split by concern; TFX calls `components.trainer.run.run_fn`."""
