"""Report figures: ROC arithmetic and threshold choice by hand, every plot a closed PNG."""

import matplotlib.pyplot as plt
import pytest

from pipeline.report import plots
from pipeline.report.model import CalibrationBucket, ConfusionAtThreshold, Training

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _confusion(*rows):
    """(threshold, tp, fp, tn, fn) rows -> confusion records."""
    return tuple(ConfusionAtThreshold(*row) for row in rows)


# 4 positives, 4 negatives. At 0.75: TPR 1/4, FPR 0/4; at 0.5: 3/4, 1/4; at 0.25: 4/4, 2/4.
# (0, 0) and (1, 1) are not recorded, so they are added. Trapezoids:
# 0 * 0.125 + 0.25 * (0.25 + 0.75) / 2 + 0.25 * (0.75 + 1) / 2 + 0.5 * (1 + 1) / 2 = 0.84375.
THREE_THRESHOLDS = _confusion((0.25, 4, 2, 2, 0), (0.5, 3, 1, 3, 1), (0.75, 1, 0, 4, 3))
# 3 positives, 5 negatives, separated perfectly at 0.5; 0.0 and 1.0 give the end points.
PERFECT = _confusion((0.0, 3, 5, 0, 0), (0.5, 3, 0, 5, 0), (1.0, 0, 0, 5, 3))
# Half of each class above 0.5: the chance diagonal.
CHANCE = _confusion((0.0, 4, 4, 0, 0), (0.5, 2, 2, 2, 2), (1.0, 0, 0, 4, 4))


@pytest.mark.parametrize(
    "confusion, fpr, tpr, auc",
    [
        (THREE_THRESHOLDS, [0, 0, 0.25, 0.5, 1], [0, 0.25, 0.75, 1, 1], 0.84375),
        (PERFECT, [0, 0, 1], [0, 1, 1], 1.0),
        (CHANCE, [0, 0.5, 1], [0, 0.5, 1], 0.5),
        (THREE_THRESHOLDS[::-1], [0, 0, 0.25, 0.5, 1], [0, 0.25, 0.75, 1, 1], 0.84375),
    ],
    ids=["three-thresholds", "perfect", "chance", "unsorted-input"],
)
def test_roc_points_and_trapezoid_auc(confusion, fpr, tpr, auc):
    got_fpr, got_tpr, got_auc = plots.roc_points(confusion)
    assert got_fpr == fpr
    assert got_tpr == tpr
    assert got_auc == pytest.approx(auc, abs=1e-12)


@pytest.mark.parametrize(
    "confusion, message",
    [
        ((), "No confusion counts"),
        (_confusion((0.5, 0, 1, 3, 0)), "0 positive and 4 negative"),
    ],
    ids=["empty", "one-class"],
)
def test_roc_points_rejects_data_without_a_curve(confusion, message):
    with pytest.raises(ValueError, match=message):
        plots.roc_points(confusion)


@pytest.mark.parametrize(
    "wanted, chosen",
    [(0.5, 0.45), (0.0, 0.3), (0.58, 0.6), (2.0, 0.6)],
    ids=["between", "below-all", "near-upper", "above-all"],
)
def test_nearest_threshold(wanted, chosen):
    confusion = _confusion((0.3, 1, 1, 1, 1), (0.45, 2, 2, 2, 2), (0.6, 3, 3, 3, 3))
    assert plots.nearest_threshold(confusion, wanted).threshold == chosen


def _training(momentum=(0.9, 0.9, 0.85)):
    return Training(
        epochs=3,
        best_epoch=2,
        history={
            "loss": (0.7, 0.5, 0.45),
            "val_loss": (0.72, 0.55, 0.56),
            "auc": (0.8, 0.9, 0.92),
            "val_auc": (0.79, 0.88, 0.87),
            "accuracy": (0.7, 0.8, 0.85),
            "val_accuracy": (0.69, 0.78, 0.79),
            # Four panels: one row of three and one hidden spare axis on the next.
            "precision": (0.6, 0.7, 0.75),
        },
        learning_rate_per_step=(1e-3, 2e-3, 3e-3),
        momentum_per_step=momentum,
        lr_finder=((1e-5, 0.7), (1e-3, 0.5), (1e-1, 2.0)),
        hparams={"learning_rate": 1e-3},
    )


BUCKETS = (
    CalibrationBucket(float("-inf"), 0.0, 0.0, 0.0, 0.0),
    CalibrationBucket(0.0, 0.5, 0.2, 0.25, 40.0),
    CalibrationBucket(0.5, 1.0, 0.8, 0.7, 60.0),
    CalibrationBucket(1.0, float("inf"), 1.0, 1.0, 2.0),
)

PLOTS = {
    "learning_curves": lambda: plots.learning_curves(_training()),
    "learning_rate": lambda: plots.learning_rate(_training()),
    "learning_rate_without_momentum": lambda: plots.learning_rate(_training(momentum=())),
    "lr_finder": lambda: plots.lr_finder(_training().lr_finder),
    "calibration": lambda: plots.calibration(BUCKETS),
    "confusion_matrix": lambda: plots.confusion_matrix(THREE_THRESHOLDS),
    "roc": lambda: plots.roc(THREE_THRESHOLDS)[0],
}


@pytest.mark.parametrize("draw", PLOTS.values(), ids=PLOTS.keys())
def test_plot_is_a_png_without_links_and_leaves_no_open_figure(draw):
    png = draw()
    assert png.startswith(PNG_SIGNATURE)
    assert b"http" not in png
    assert plt.get_fignums() == []


def test_roc_returns_the_area_of_roc_points():
    _, auc = plots.roc(THREE_THRESHOLDS)
    assert auc == pytest.approx(0.84375, abs=1e-12)


@pytest.mark.parametrize(
    "draw",
    [
        lambda: plots.learning_curves(
            Training(1, 1, {}, (), (), (), {}),
        ),
        lambda: plots.calibration(()),
        lambda: plots.confusion_matrix(()),
    ],
    ids=["no-history", "no-buckets", "no-confusion"],
)
def test_plot_without_data_raises_and_leaves_no_open_figure(draw):
    with pytest.raises(ValueError):
        draw()
    assert plt.get_fignums() == []
