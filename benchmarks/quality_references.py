"""The quality benchmark's references (`benchmarks/quality.py`): a run's own train / eval /
test split read back from its ExampleGen output, and scikit-learn's HistGradientBoosting and
LightGBM fitted on exactly those rows and scored on the same test rows."""

from __future__ import annotations

import glob
import math
import time
from pathlib import Path

LIGHTGBM_ROUNDS = 5000
LIGHTGBM_RATE = 0.05
LIGHTGBM_PATIENCE = 50
HGB_MAX_CATEGORIES = 255  # HistGradientBoosting's native categories fit in its 255 bins


def split_folders(run_output: Path, run_id: str | None) -> dict[str, Path]:
    """The run's ExampleGen output: split name -> folder of its GZIP TFRecord shards."""
    from pipeline.contracts import METADATA_FILE
    from pipeline.run_artifacts import RunArtifacts

    examples = RunArtifacts(str(run_output / METADATA_FILE), run_id).output(
        "CsvExampleGen", "Examples"
    )
    if examples is None:
        raise RuntimeError(f"no ExampleGen output recorded in {run_output} for run {run_id}")
    return {split: Path(examples.uri) / f"Split-{split}" for split in ("train", "eval", "test")}


def read_examples(folder: Path) -> list[dict]:
    """Every `tf.train.Example` of a split as {feature: value or None}."""
    import tensorflow as tf

    rows = []
    files = sorted(glob.glob(str(folder / "*.gz")))
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        example = tf.train.Example.FromString(record)
        row = {}
        for name, feature in example.features.feature.items():
            kind = feature.WhichOneof("kind")
            values = list(getattr(feature, kind).value) if kind else []
            value = values[0] if values else None
            row[name] = value.decode("utf-8") if isinstance(value, bytes) else value
        rows.append(row)
    return rows


def _number(value) -> float:
    if value is None or value == "":
        return math.nan
    return float(value)


def _label_values(spec, rows: list[dict]):
    """The label as the pipeline trains on it: class index, 0 / 1, or the number."""
    import numpy as np

    label = spec.label
    if label.derive is not None:  # missing values count as 0, as in Transform
        columns = {c: np.array([_number(r.get(c)) for r in rows]) for c in label.derive.columns}
        columns = {c: np.nan_to_num(v, nan=0.0) for c, v in columns.items()}
        return np.asarray(label.derive.evaluate(columns), dtype=np.int64)
    values = [r.get(label.column) for r in rows]
    if spec.task.value == "regression":
        return np.array([_number(v) for v in values])
    if not label.classes:
        return np.array([int(v) for v in values], dtype=np.int64)
    index = {name: i for i, name in enumerate(label.classes)}

    def key(value) -> str:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return np.array([index[key(v)] for v in values], dtype=np.int64)


def reference_frames(spec, splits: dict[str, list[dict]]):
    """(X, y) per split: the spec's model inputs, numbers as floats, strings as categories."""
    import pandas as pd

    # In the data's own column order, whatever kind the draft gave them: the trees' results
    # must not move with the draft (split ties fall by column order). Text and images are
    # left out.
    kept = {f.name for features in (spec.numeric, spec.categorical) for f in features}
    columns = [f.name for f in spec.features if f.name in kept]
    raw = {s: pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)
           for s, rows in splits.items()}  # fmt: skip
    every = pd.concat(raw.values(), keys=list(raw))
    frames = {}
    for column in columns:
        numbers = pd.to_numeric(every[column], errors="coerce")
        if numbers.notna().sum() == every[column].notna().sum():
            every[column] = numbers.astype(float)
        else:  # one category set over all splits, so codes agree between them
            every[column] = every[column].astype("category")
    for split in raw:
        frames[split] = (every.loc[split].reset_index(drop=True),
                         _label_values(spec, splits[split]))  # fmt: skip
    return frames


def _scores(task: str, y, predicted, classes=None) -> dict:
    """Accuracy and AUC (binary), accuracy (multiclass) or RMSE of one model's predictions.

    `predicted` holds numbers (regression) or probabilities per class of `classes`.
    """
    import numpy as np
    from sklearn.metrics import accuracy_score, roc_auc_score

    if task == "regression":
        return {"rmse": float(np.sqrt(np.mean((np.asarray(predicted) - y) ** 2)))}
    result = {"accuracy": float(accuracy_score(y, classes[np.argmax(predicted, axis=1)]))}
    if task == "binary":
        result["auc"] = float(roc_auc_score(y, predicted[:, 1]))
    return result


def fit_references(task: str, frames: dict, seed: int) -> dict:
    """HistGradientBoosting at defaults (train + eval) and LightGBM early-stopped on eval.

    Both on one thread: the benchmark shares its cores with Deepline's runs and others, and
    OpenMP's spinning threads on an oversubscribed machine made an 871-row fit take 140 s.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _fit_references(task, frames, seed)


def _fit_references(task: str, frames: dict, seed: int) -> dict:
    import lightgbm
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    (x_train, y_train), (x_eval, y_eval) = frames["train"], frames["eval"]
    x_test, y_test = frames["test"]
    results = {}

    def as_codes(x: pd.DataFrame) -> pd.DataFrame:
        x = x.copy()
        for column in x.columns:
            if isinstance(x[column].dtype, pd.CategoricalDtype):
                codes = x[column].cat.codes.astype(float)
                x[column] = codes.where(codes >= 0, np.nan)
        return x

    categorical = [
        isinstance(x_train[c].dtype, pd.CategoricalDtype)
        and len(x_train[c].cat.categories) <= HGB_MAX_CATEGORIES
        for c in x_train.columns
    ]
    kind = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    hgb = kind(random_state=seed, categorical_features=np.array(categorical))
    started = time.monotonic()
    hgb.fit(as_codes(pd.concat([x_train, x_eval])), np.concatenate([y_train, y_eval]))
    seconds = time.monotonic() - started
    test = as_codes(x_test)
    predicted = hgb.predict(test) if task == "regression" else hgb.predict_proba(test)
    classes = getattr(hgb, "classes_", None)
    results["hgb"] = {**_scores(task, y_test, predicted, classes), "seconds": round(seconds, 2)}

    options = dict(
        n_estimators=LIGHTGBM_ROUNDS,
        learning_rate=LIGHTGBM_RATE,
        random_state=seed,
        n_jobs=1,
        verbose=-1,
    )
    kind = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    booster = kind(**options)
    started = time.monotonic()
    booster.fit(
        x_train,
        y_train,
        eval_X=x_eval,
        eval_y=y_eval,
        callbacks=[lightgbm.early_stopping(LIGHTGBM_PATIENCE, verbose=False)],
    )
    seconds = time.monotonic() - started
    predicted = booster.predict(x_test) if task == "regression" else booster.predict_proba(x_test)
    results["lightgbm"] = {
        **_scores(task, y_test, predicted, getattr(booster, "classes_", None)),
        "seconds": round(seconds, 2),
        "trees": int(booster.best_iteration_ or LIGHTGBM_ROUNDS),
    }
    return results
