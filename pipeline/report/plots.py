"""Figures of the run report, rendered headless to PNG bytes with matplotlib.

Each function draws one figure from report records and returns the PNG. The
ROC arithmetic (`roc_points`) and the threshold choice (`nearest_threshold`)
are pure functions, so the numbers on the page can be tested without pixels.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator, Sequence
from itertools import pairwise

# Figures are made with the object API and saved with the Agg canvas: no
# pyplot, so no global backend switch, no display needed, and nothing for
# pyplot to keep alive between reports.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pipeline.report.model import (
    CalibrationBucket,
    ConfusionAtThreshold,
    Training,
)

_DPI = 100
# Panels per row of the learning-curve grid: three stay legible at page width.
_PANEL_COLUMNS = 3
_EVAL_PREFIX = "val_"


@contextlib.contextmanager
def _figure(width: float, height: float) -> Iterator[Figure]:
    """Yields a new figure drawn on an Agg canvas (no pyplot, freed when dropped)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    yield fig


def _to_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # Without the default "Software" entry the PNG carries no matplotlib URL,
    # so the page holds no link of any kind, not even inside an image.
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _metric_names(history: dict[str, tuple[float, ...]]) -> list[str]:
    """Metric names without the eval prefix, loss first, otherwise in history order."""
    names = list(dict.fromkeys(key.removeprefix(_EVAL_PREFIX) for key in history))
    return sorted(names, key=lambda name: name != "loss")


def learning_curves(training: Training) -> bytes:
    """Draws loss and each metric per epoch, train and eval, with the best epoch marked.

    Args:
      training: The fit; `history` holds "loss", "val_loss", "auc", ... per epoch.

    Returns:
      The figure as PNG bytes: one panel per metric.

    Raises:
      ValueError: If the history is empty.
    """
    names = _metric_names(training.history)
    if not names:
        raise ValueError("The training history is empty: there are no learning curves to draw.")
    columns = min(len(names), _PANEL_COLUMNS)
    rows = math.ceil(len(names) / columns)
    with _figure(4.2 * columns, 3.2 * rows) as fig:
        axes = list(fig.subplots(rows, columns, squeeze=False).flat)
        for ax, name in zip(axes, names, strict=False):
            for key, split in ((name, "train"), (_EVAL_PREFIX + name, "eval")):
                values = training.history.get(key, ())
                if values:
                    epochs = range(1, len(values) + 1)
                    ax.plot(epochs, values, marker="o", markersize=3, label=split)
            ax.axvline(
                training.best_epoch,
                color="0.45",
                linestyle="--",
                linewidth=1,
                label=f"best epoch ({training.best_epoch})",
            )
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set(title=name, xlabel="epoch")
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small")
        for unused in axes[len(names) :]:
            unused.set_visible(False)
        return _to_png(fig)


def learning_rate(training: Training) -> bytes:
    """Draws the learning rate per optimizer step, and the momentum on a second axis if recorded.

    Args:
      training: The fit; `learning_rate_per_step` must not be empty.

    Returns:
      The figure as PNG bytes.

    Raises:
      ValueError: If no learning rate was recorded.
    """
    rates = training.learning_rate_per_step
    if not rates:
        raise ValueError("No learning rate per step was recorded: there is no schedule to draw.")
    with _figure(7.0, 3.2) as fig:
        ax = fig.subplots()
        lines = ax.plot(range(len(rates)), rates, color="C0", label="learning rate")
        ax.set(title="Learning rate schedule", xlabel="step", ylabel="learning rate")
        ax.grid(alpha=0.3)
        if training.momentum_per_step:
            momentum = training.momentum_per_step
            twin = ax.twinx()
            lines += twin.plot(range(len(momentum)), momentum, color="C1", label="momentum")
            twin.set_ylabel("momentum")
        ax.legend(lines, [line.get_label() for line in lines], fontsize="small")
        return _to_png(fig)


def lr_finder(points: Sequence[tuple[float, float]]) -> bytes:
    """Draws the loss of a learning-rate range test against the learning rate, log x axis.

    Args:
      points: (learning rate, loss) pairs, by increasing learning rate.

    Returns:
      The figure as PNG bytes.

    Raises:
      ValueError: If there are no points.
    """
    if not points:
        raise ValueError("The learning-rate finder recorded no points.")
    with _figure(6.0, 3.6) as fig:
        ax = fig.subplots()
        ax.plot([rate for rate, _ in points], [loss for _, loss in points], color="C0")
        ax.set_xscale("log")
        ax.set(title="Learning-rate finder", xlabel="learning rate (log scale)", ylabel="loss")
        ax.grid(alpha=0.3, which="both")
        return _to_png(fig)


def calibration(buckets: Sequence[CalibrationBucket]) -> bytes:
    """Draws mean label against mean prediction per bucket, with the diagonal and bucket sizes.

    Args:
      buckets: Calibration buckets by increasing prediction.

    Returns:
      The figure as PNG bytes: the reliability curve above, examples per
      bucket below.

    Raises:
      ValueError: If there are no buckets.
    """
    if not buckets:
        raise ValueError("There are no calibration buckets to draw.")
    # An empty bucket has no mean; drawing it at (0, 0) would fake a perfect point.
    filled = [b for b in buckets if b.count > 0]
    with _figure(5.0, 5.6) as fig:
        curve, sizes = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
        curve.plot([0, 1], [0, 1], color="0.6", linestyle="--", label="perfectly calibrated")
        curve.plot(
            [b.mean_prediction for b in filled],
            [b.mean_label for b in filled],
            marker="o",
            color="C0",
            label="model",
        )
        curve.set(title="Calibration", ylabel="mean label", xlim=(0, 1), ylim=(0, 1))
        curve.grid(alpha=0.3)
        curve.legend(fontsize="small", loc="upper left")
        # The outer buckets reach to -inf and +inf; only their part inside [0, 1] can be drawn.
        for b in filled:
            lower, upper = max(b.lower, 0.0), min(b.upper, 1.0)
            if upper > lower:
                sizes.bar(lower, b.count, width=upper - lower, align="edge", color="C0", alpha=0.6)
        sizes.set(xlabel="mean prediction", ylabel="examples")
        return _to_png(fig)


def nearest_threshold(
    confusion: Sequence[ConfusionAtThreshold], threshold: float
) -> ConfusionAtThreshold:
    """Returns the recorded confusion counts whose threshold is closest to `threshold`.

    Args:
      confusion: Confusion counts at several thresholds.
      threshold: The wanted threshold.

    Returns:
      The closest entry; of two equally close, the one listed first.

    Raises:
      ValueError: If `confusion` is empty.
    """
    if not confusion:
        raise ValueError("No confusion counts were recorded.")
    return min(confusion, key=lambda c: abs(c.threshold - threshold))


def confusion_matrix(confusion: Sequence[ConfusionAtThreshold], threshold: float = 0.5) -> bytes:
    """Draws the 2x2 confusion matrix at the recorded threshold nearest to `threshold`.

    Args:
      confusion: Confusion counts at several thresholds.
      threshold: The wanted threshold. Defaults to 0.5.

    Returns:
      The figure as PNG bytes: actual class by row, predicted by column, counts in the cells.

    Raises:
      ValueError: If `confusion` is empty.
    """
    chosen = nearest_threshold(confusion, threshold)
    cells = [[chosen.tn, chosen.fp], [chosen.fn, chosen.tp]]
    classes = ("negative", "positive")
    with _figure(4.2, 3.8) as fig:
        ax = fig.subplots()
        image = ax.imshow(cells, cmap="Blues", vmin=0)
        # Dark text on light cells, light text on dark ones.
        darkest = max(max(row) for row in cells) or 1.0
        for row, values in enumerate(cells):
            for column, value in enumerate(values):
                color = "white" if value > darkest / 2 else "black"
                ax.text(column, row, f"{value:,.0f}", ha="center", va="center", color=color)
        ax.set_xticks([0, 1], labels=classes)
        ax.set_yticks([0, 1], labels=classes)
        ax.set(
            title=f"Confusion at threshold {chosen.threshold:.4f}",
            xlabel="predicted",
            ylabel="actual",
        )
        fig.colorbar(image, ax=ax, shrink=0.8)
        return _to_png(fig)


def roc_points(
    confusion: Sequence[ConfusionAtThreshold],
) -> tuple[list[float], list[float], float]:
    """Returns the ROC curve and its area from confusion counts at several thresholds.

    TPR = tp / (tp + fn) and FPR = fp / (fp + tn) at each threshold, from the
    highest threshold to the lowest, so both rise along the curve. A threshold
    above every score yields (0, 0) and one below every score (1, 1); these
    end points are added when not recorded, so the area spans FPR 0 to 1.

    Args:
      confusion: Confusion counts at several thresholds, in any order.

    Returns:
      (FPR per point, TPR per point, area under the curve by the trapezoid rule).

    Raises:
      ValueError: If `confusion` is empty, or a threshold has no positive or
        no negative examples (a ROC curve needs both classes).
    """
    if not confusion:
        raise ValueError("No confusion counts were recorded: the ROC curve cannot be computed.")
    fpr, tpr = [], []
    for c in sorted(confusion, key=lambda c: c.threshold, reverse=True):
        positives, negatives = c.tp + c.fn, c.fp + c.tn
        if positives <= 0 or negatives <= 0:
            raise ValueError(
                f"The ROC curve needs both classes, but at threshold {c.threshold} there are "
                f"{positives:g} positive and {negatives:g} negative examples."
            )
        fpr.append(c.fp / negatives)
        tpr.append(c.tp / positives)
    if (fpr[0], tpr[0]) != (0.0, 0.0):
        fpr.insert(0, 0.0)
        tpr.insert(0, 0.0)
    if (fpr[-1], tpr[-1]) != (1.0, 1.0):
        fpr.append(1.0)
        tpr.append(1.0)
    curve = pairwise(zip(fpr, tpr, strict=True))
    auc = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in curve)
    return fpr, tpr, auc


def roc(confusion: Sequence[ConfusionAtThreshold]) -> tuple[bytes, float]:
    """Draws the ROC curve computed by `roc_points`, with its AUC in the title.

    Args:
      confusion: Confusion counts at several thresholds.

    Returns:
      (the figure as PNG bytes, the trapezoid AUC).

    Raises:
      ValueError: As `roc_points`.
    """
    fpr, tpr, auc = roc_points(confusion)
    with _figure(4.6, 4.4) as fig:
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", label="chance")
        ax.plot(fpr, tpr, color="C0", label="model")
        ax.set(
            title=f"ROC curve (AUC = {auc:.4f})",
            xlabel="false positive rate",
            ylabel="true positive rate",
            xlim=(0, 1),
            ylim=(0, 1.01),
            aspect="equal",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="lower right")
        return _to_png(fig), auc
