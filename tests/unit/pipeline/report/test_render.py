"""The HTML run report: sections, tables with exact numbers, escaping, embedded images only."""

import base64
import dataclasses
from html.parser import HTMLParser

import pytest

from pipeline.report.model import (
    CalibrationBucket,
    Candidate,
    ConfusionAtThreshold,
    Drift,
    DriftRow,
    Evaluation,
    FeatureStats,
    LayerRow,
    ModelChoice,
    ReportData,
    RunInfo,
    Training,
)
from pipeline.report.render import render, write_report

SECTION_IDS = ["summary", "data", "training", "candidates", "evaluation", "model"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_URI = "data:image/png;base64,"


def make_report(**changes) -> ReportData:
    """A small run: two splits, three epochs, two slices, three layers; `changes` replace fields."""
    run = RunInfo(
        pipeline_name="taxi",
        data="data/taxi/data.csv",
        output_dir="/tmp/run",
        started="2024-05-01T12:00:00",
        component_seconds=(("CsvExampleGen", 2.5, False), ("Transform", 0.4, True)),
        blessed=False,
        pushed=False,
        not_blessed_reasons=("auc 0.8100 is below the minimum 0.9000",),
        model_dir=None,
    )
    fare = FeatureStats("fare", "numeric", 4, 1, 12.5, 2.25, 3.0, 40.0, ())
    payment = FeatureStats(
        "payment_type", "categorical", 5, 0, None, None, None, None, (("<script>", 3), ("Cash", 2))
    )
    training = Training(
        epochs=3,
        best_epoch=2,
        history={"loss": (0.7, 0.5, 0.45), "val_loss": (0.72, 0.55, 0.56)},
        learning_rate_per_step=(1e-3, 2e-3, 3e-3),
        momentum_per_step=(),
        lr_finder=(),
        hparams={"learning_rate": 0.001, "optimizer": "adamw"},
    )
    evaluation = Evaluation(
        metrics_by_slice={
            "payment_type=Cash": {"example_count": 50.0, "auc": 0.8},
            "overall": {"example_count": 300.0, "auc": 0.81234, "binary_accuracy": 0.9},
            "payment_type=Credit Card": {"example_count": 250.0, "auc": 0.83},
        },
        calibration=(CalibrationBucket(0.0, 0.5, 0.2, 0.25, 40.0),),
        # 0.55 is nearer to 0.5 than 0.4 is, so the confusion matrix is drawn at 0.55.
        confusion=(
            ConfusionAtThreshold(0.4, 4, 2, 2, 0),
            ConfusionAtThreshold(0.55, 3, 1, 3, 1),
            ConfusionAtThreshold(0.9, 1, 0, 4, 3),
        ),
        baseline_diff={},
    )
    layers = (
        LayerRow("inputs", "InputLayer", "(None, 8)", 0, True),
        LayerRow("dense", "Dense", "(None, 64)", 1_200, True),
        LayerRow("norm", "BatchNormalization", "(None, 64)", 128, False),
    )
    report = ReportData(
        run=run,
        statistics={"train": (fare, payment), "eval": (fare,)},
        anomalies=(),
        training=training,
        evaluation=evaluation,
        layers=layers,
    )
    return dataclasses.replace(report, **changes)


@dataclasses.dataclass
class _Section:
    text: str = ""
    images: list = dataclasses.field(default_factory=list)
    rows: list = dataclasses.field(default_factory=list)


class _Page(HTMLParser):
    """Each <section id=...> of a page: its visible text, image sources and table rows."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, _Section] = {}
        self._section = None
        self._row = None
        self._cell = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self._section = self.sections.setdefault(attrs["id"], _Section())
        elif self._section is None:
            return
        elif tag == "img":
            self._section.images.append(attrs["src"])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._section.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._section is not None:
            self._section.text += data
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def page() -> str:
    return render(make_report())


@pytest.fixture(scope="module")
def sections(page) -> dict[str, _Section]:
    return _Page(page).sections


def test_page_has_every_section_in_order_with_a_heading(page, sections):
    assert list(sections) == SECTION_IDS
    for section_id in SECTION_IDS:
        assert f'<section id="{section_id}"><h2>' in page
    assert page.startswith("<!DOCTYPE html>")


def test_page_is_self_contained(page):
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page
    assert "<link" not in page


@pytest.mark.parametrize("section_id, at_least", [("training", 2), ("evaluation", 3)])
def test_plots_are_embedded_pngs(sections, section_id, at_least):
    images = sections[section_id].images
    assert len(images) >= at_least
    for src in images:
        assert src.startswith(DATA_URI)
        assert base64.b64decode(src[len(DATA_URI) :]).startswith(PNG_SIGNATURE)


def test_feature_values_are_escaped(page, sections):
    assert "<script>" not in page
    assert "&lt;script&gt; (3), Cash (2)" in page
    payment = next(row for row in sections["data"].rows if row[0] == "payment_type")
    top_values = "<script> (3), Cash (2)"
    assert payment == ["payment_type", "categorical", "5", "0", "0.0%", "", "", "", "", top_values]


def test_numeric_feature_row_has_missing_share_and_four_significant_digits(sections):
    fare = ["fare", "numeric", "4", "1", "20.0%", "12.5", "2.25", "3", "40", ""]
    # Once per split.
    assert sections["data"].rows.count(fare) == 2
    assert "No anomalies." in sections["data"].text


def test_anomalies_are_listed():
    sections = _Page(render(make_report(anomalies=("fare: values below 0",)))).sections
    assert "fare: values below 0" in sections["data"].text
    assert "No anomalies." not in sections["data"].text


def test_summary_marks_cached_components_and_totals_their_time(sections):
    rows = sections["summary"].rows
    assert ["CsvExampleGen", "2.5", ""] in rows
    assert ["Transform", "0.4", "cached"] in rows
    assert ["Total", "2.9", ""] in rows


def test_summary_gives_the_reasons_a_model_was_not_blessed(sections):
    text = sections["summary"].text
    assert "Not blessed, not pushed" in text
    assert "auc 0.8100 is below the minimum 0.9000" in text
    assert "No model was pushed." in text


def test_summary_of_a_pushed_model_says_where_it_went():
    run = dataclasses.replace(
        make_report().run, blessed=True, pushed=True, not_blessed_reasons=(), model_dir="/m/7"
    )
    text = _Page(render(make_report(run=run))).sections["summary"].text
    assert "Blessed and pushed" in text
    assert "/m/7" in text
    assert "Not blessed" not in text


def test_training_states_best_epoch_and_hparams(sections):
    training = sections["training"]
    assert "Trained for 3 epochs; the weights of epoch 2 were kept." in training.text
    assert ["learning_rate", "0.001"] in training.rows
    assert ["optimizer", "adamw"] in training.rows


def test_metrics_overall_first_then_slices_by_example_count(sections):
    rows = sections["evaluation"].rows
    assert rows[0] == ["Slice", "example_count", "auc", "binary_accuracy"]
    assert rows[1:4] == [
        ["overall", "300", "0.8123", "0.9000"],
        ["payment_type=Credit Card", "250", "0.8300", ""],
        ["payment_type=Cash", "50", "0.8000", ""],
    ]


def test_confusion_at_nearest_threshold_and_roc_auc_in_captions(sections):
    text = sections["evaluation"].text
    assert "At threshold 0.5500, the recorded one nearest to 0.5." in text
    # Points (0, 0), (0, .25), (.25, .75), (.5, 1), (1, 1): area 0.84375.
    assert "AUC 0.8438 by the trapezoid rule over 3 thresholds." in text


def test_without_baseline_says_first_blessed_model(sections):
    assert "No baseline model: first blessed model." in sections["evaluation"].text


def test_baseline_table_shows_candidate_baseline_and_change():
    evaluation = dataclasses.replace(
        make_report().evaluation, baseline_diff={"auc": 0.01234, "binary_accuracy": -0.05}
    )
    evaluation_section = _Page(render(make_report(evaluation=evaluation))).sections["evaluation"]
    assert ["auc", "0.8123", "0.8000", "+0.0123"] in evaluation_section.rows
    assert ["binary_accuracy", "0.9000", "0.9500", "-0.0500"] in evaluation_section.rows
    assert "No baseline model" not in evaluation_section.text


def test_single_class_test_split_explains_the_missing_roc_curve():
    evaluation = dataclasses.replace(
        make_report().evaluation, confusion=(ConfusionAtThreshold(0.5, 0, 1, 3, 0),)
    )
    evaluation_section = _Page(render(make_report(evaluation=evaluation))).sections["evaluation"]
    assert "ROC curve not drawn" in evaluation_section.text
    assert len(evaluation_section.images) == 2  # calibration and confusion matrix


def test_model_layers_with_total_params(sections):
    rows = sections["model"].rows
    assert ["dense", "Dense", "(None, 64)", "1,200", "yes"] in rows
    assert ["norm", "BatchNormalization", "(None, 64)", "128", "no"] in rows
    assert ["Total", "", "", "1,328", "1,200 trainable"] in rows


def test_run_without_training_or_evaluation_still_has_every_section():
    sections = _Page(render(make_report(training=None, evaluation=None, layers=()))).sections
    assert list(sections) == SECTION_IDS
    assert "No training record" in sections["training"].text
    assert "No evaluation" in sections["evaluation"].text
    assert "No model summary" in sections["model"].text
    assert "No model choice was recorded" in sections["candidates"].text
    assert sections["training"].images == sections["evaluation"].images == []


def test_write_report_creates_the_folder_and_writes_utf8(tmp_path, page):
    path = tmp_path / "reports" / "run.html"
    write_report(make_report(), path)
    assert path.read_text(encoding="utf-8") == page


def test_candidates_show_eval_and_test_metrics_side_by_side_and_the_reason():
    choice = ModelChoice(
        choice="auto",
        reason="gbdt: highest eval auc 0.9300 (against dnn 0.9100)",
        left_out=(),
        candidates=(
            Candidate(
                "dnn", {"accuracy": 0.88, "auc": 0.91}, {"accuracy": 0.87, "auc": 0.9}, 12.0, False
            ),
            Candidate("gbdt", {"accuracy": 0.9, "auc": 0.93}, None, 3.25, True),
        ),
    )
    section = _Page(render(make_report(model_choice=choice))).sections["candidates"]
    assert "--model auto serves gbdt: highest eval auc 0.9300 (against dnn 0.9100)." in section.text
    assert section.rows == [
        ["Candidate", "eval accuracy", "eval auc", "test accuracy", "test auc", "Trainer s"],
        ["dnn", "0.8800", "0.9100", "0.8700", "0.9000", "12.0"],
        ["gbdt (served)", "0.9000", "0.9300", "-", "-", "3.2"],
    ]


def test_drift_table_has_each_compared_column_with_its_distance_threshold_and_verdict():
    drift = Drift(
        compared=True,
        action="stop",
        rows=(
            DriftRow("color", "L-infinity distance", 0.02, 0.1, False),
            DriftRow("fare", "Jensen–Shannon divergence", 0.9607, 0.1, True),
        ),
    )
    data = _Page(render(make_report(drift=drift))).sections["data"]
    assert ["color", "L-infinity distance", "0.0200", "0.1000", "no"] in data.rows
    assert ["fare", "Jensen–Shannon divergence", "0.9607", "0.1000", "drifted"] in data.rows
    assert "Drift against the live model's training data" in data.text
    assert "Drift stops a run of this data set." in data.text


def test_drift_without_a_live_model_says_nothing_was_compared():
    drift = Drift(compared=False, action="warn", rows=())
    data = _Page(render(make_report(drift=drift))).sections["data"]
    assert "Nothing to compare with: no live model yet" in data.text
    assert not any(row and row[0] == "Column" for row in data.rows)
