"""`components.trainer.families.selection`: candidates scored on the eval split, the
average of several models, and the choice with its reason."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.dataset import Task
from components.trainer.families import selection
from components.trainer.families.base import Trained
from components.trainer.heads import Head

BINARY, REGRESSION = Head(Task.BINARY), Head(Task.REGRESSION)


def _constant(value: float, name: str) -> keras.Model:
    """A model over {"x": (batch, 1)} that predicts value + 0 * x."""
    x = keras.Input(shape=(1,), name="x")
    out = keras.layers.Lambda(lambda t: 0.0 * t + value, name=name)(x)
    return keras.Model({"x": x}, out)


def _scaled(factor: float, name: str) -> keras.Model:
    """A model over {"x": (batch, 1)} that predicts factor * x."""
    x = keras.Input(shape=(1,), name="x")
    return keras.Model({"x": x}, keras.layers.Rescaling(factor, name=name)(x))


def _dataset(x, y, batch=2):
    return tf.data.Dataset.from_tensor_slices(
        ({"x": np.asarray(x, np.float32).reshape(-1, 1)}, np.asarray(y, np.float32))
    ).batch(batch)


def _candidate(name, **metrics):
    return selection.Candidate(name, model=None, eval_metrics=metrics, seconds=1.0)


def test_the_average_predicts_the_mean_of_its_members():
    members = {"a": _scaled(2.0, "a"), "b": _scaled(0.5, "b")}
    averaged = selection.average(members, _dataset([1], [0]).element_spec[0], REGRESSION)
    x = np.array([[1.0], [-2.0], [4.0]], np.float32)
    np.testing.assert_allclose(averaged({"x": x}).numpy(), x * 1.25, rtol=1e-6)
    assert averaged.output_names == [REGRESSION.prediction_key]


def test_score_computes_the_heads_metrics_exactly_over_every_batch():
    # Predictions 0.2, 0.9, 0.6 for labels 0, 1, 0: accuracy 2/3, AUC 1.0.
    model = _scaled(1.0, "p")
    metrics = selection.score(model, _dataset([0.2, 0.9, 0.6], [0, 1, 0]), BINARY)
    # Log loss: -(ln 0.8 + ln 0.9 + ln 0.4) / 3.
    log_loss = -(np.log(0.8) + np.log(0.9) + np.log(0.4)) / 3
    assert metrics == {
        "accuracy": pytest.approx(2 / 3),
        "auc": 1.0,
        "log_loss": pytest.approx(log_loss),
    }


def test_score_refuses_an_empty_eval_split():
    empty = _dataset([1.0], [1.0]).take(0)
    with pytest.raises(ValueError, match="the eval split holds no example"):
        selection.score(_scaled(1.0, "p"), empty, BINARY)


def test_choose_takes_the_best_eval_metric_and_says_why():
    candidates = [_candidate("dnn", auc=0.91), _candidate("gbdt", auc=0.93)]
    chosen, reason = selection.choose(candidates, BINARY)
    assert chosen.name == "gbdt"
    assert reason == "gbdt: highest eval auc 0.9300 (against dnn 0.9100)"


def test_choose_takes_the_lowest_rmse_for_regression():
    candidates = [_candidate("dnn", rmse=3.0), _candidate("gbdt", rmse=4.0)]
    chosen, reason = selection.choose(candidates, REGRESSION)
    assert chosen.name == "dnn"
    assert reason == "dnn: lowest eval rmse 3.0000 (against gbdt 4.0000)"


def test_choose_keeps_the_first_on_a_tie_and_ranks_an_undefined_metric_last():
    tied = [_candidate("dnn", auc=0.9), _candidate("gbdt", auc=0.9)]
    assert selection.choose(tied, BINARY)[0].name == "dnn"
    undefined = [_candidate("dnn", auc=None), _candidate("gbdt", auc=0.6)]
    assert selection.choose(undefined, BINARY)[0].name == "gbdt"


def test_a_tie_goes_to_the_lower_log_loss_and_the_reason_says_so():
    tied = [
        _candidate("dnn", accuracy=0.95, log_loss=0.20),
        _candidate("gbdt", accuracy=0.95, log_loss=0.30),
        _candidate("ensemble", accuracy=0.95, log_loss=0.15),
    ]
    chosen, reason = selection.choose(tied, Head(Task.MULTICLASS))
    assert chosen.name == "ensemble"
    assert reason == (
        "ensemble: highest eval accuracy 0.9500 (against dnn 0.9500, gbdt 0.9500); "
        "tied with dnn, gbdt, it has the lowest eval log loss 0.1500"
    )
    # The quality metric comes first: a better accuracy wins whatever its log loss.
    better = [*tied, _candidate("tabm", accuracy=0.96, log_loss=0.90)]
    assert selection.choose(better, Head(Task.MULTICLASS))[0].name == "tabm"


def test_the_choice_reads_the_eval_split_only():
    """A candidate better on held-out rows but worse on eval is not chosen: the model
    that predicts eval's labels wins, whatever another split would say."""
    eval_ds = _dataset([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    good_on_eval, good_elsewhere = _scaled(1.0, "a"), _scaled(2.0, "b")
    candidates = [
        selection.Candidate(
            "a", good_on_eval, selection.score(good_on_eval, eval_ds, REGRESSION), 1
        ),
        selection.Candidate(
            "b", good_elsewhere, selection.score(good_elsewhere, eval_ds, REGRESSION), 1
        ),
    ]
    assert selection.choose(candidates, REGRESSION)[0].name == "a"


def test_candidates_are_scored_by_the_models_that_never_saw_the_eval_rows():
    """A family refitted on train + eval is served as refitted but scored as it was before:
    here the served "a" is exact on eval (it learned those rows), the scored one is not."""
    eval_ds = _dataset([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    served_a, scored_a, b = _scaled(1.0, "a"), _scaled(2.0, "a_early"), _scaled(1.5, "b")
    trained = {
        "a": Trained(model=served_a, record={}, eval_model=scored_a),
        "b": Trained(model=b, record={}),
    }
    candidates = selection.candidates(
        trained, {"a": 2.0, "b": 3.0}, eval_ds, REGRESSION, ensemble="ensemble"
    )
    assert [c.name for c in candidates] == ["a", "b", "ensemble"]
    a, _, ensemble = candidates
    norm = np.sqrt(14 / 3)  # RMS of the eval x: 1, 2, 3
    assert a.model is served_a and a.seconds == 2.0
    assert a.eval_metrics["rmse"] == pytest.approx(norm)  # 2x against x, not 0
    assert candidates[1].eval_metrics["rmse"] == pytest.approx(0.5 * norm)
    # Served: the mean of the served models (1.25 x); scored: of the scored ones (1.75 x).
    x = np.array([[4.0]], np.float32)
    np.testing.assert_allclose(ensemble.model({"x": x}).numpy(), 1.25 * x, rtol=1e-6)
    assert ensemble.eval_metrics["rmse"] == pytest.approx(0.75 * norm)
    assert ensemble.seconds == 5.0


def test_candidates_without_an_ensemble_are_the_families_alone():
    eval_ds = _dataset([1.0, 2.0], [1.0, 2.0])
    trained = {"a": Trained(model=_scaled(1.0, "a"), record={})}
    (only,) = selection.candidates(trained, {"a": 1.0}, eval_ds, REGRESSION)
    assert only.name == "a" and only.eval_metrics["rmse"] == pytest.approx(0.0)


def test_the_reason_says_when_the_served_model_was_refitted_after_its_eval_scores():
    refitted = Trained(model=_scaled(1.0, "a"), record={}, eval_model=_scaled(2.0, "a0"))
    trained = {"gbdt": refitted, "dnn": Trained(model=_scaled(1.0, "b"), record={})}
    note = selection.refit_note(_candidate("gbdt"), trained)
    assert note == "; served with gbdt refitted on train + eval, scored on eval before the refit"
    assert selection.refit_note(_candidate("ensemble"), trained) == note  # gbdt is a member
    assert selection.refit_note(_candidate("dnn"), trained) == ""
