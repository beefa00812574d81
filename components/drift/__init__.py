"""Drift: the new data compared with the data the live (pushed) model was trained on.

`settings` (what is compared and how strictly, TF-free), `baseline` (the live model's training
statistics and schema, found through ML Metadata lineage: a TFX resolver strategy),
`comparison` (TFX's DistributionValidator output read back and said in words). The pipeline
wires them (`pipeline.pipeline`); the validation gate stops the run on drift.
"""
