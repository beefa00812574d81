"""The run report of a real run: every section, plots embedded, no network, renders in Chromium."""

import json
import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.e2e

SECTIONS = ("summary", "data", "training", "candidates", "evaluation", "model")


def _section(page: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', page, flags=re.S)
    assert match, f"section {section_id} missing"
    return match.group(0)


def test_run_writes_a_self_contained_report(first_run):
    output, proc, summary = first_run
    report = output / "report.html"
    assert summary["report"] == str(report)
    assert f"Report: {report}" in proc.stdout
    page = report.read_text()
    for section_id in SECTIONS:
        _section(page, section_id)
    for plotted in ("training", "evaluation"):
        assert "data:image/png;base64," in _section(page, plotted)
    assert _section(page, "evaluation").count("data:image/png;base64,") >= 3  # calibration, CM, ROC
    assert not re.search(r"https?://", page)
    assert "<script src" not in page
    assert "payment_type" in _section(page, "data")
    # The page is the folder's newest run (later runs of the session may have rewritten it),
    # so its model table is the one that run's summary names.
    newest = json.loads((output / "summary.json").read_text())
    assert _served_layer(newest) in _section(page, "model")


def _without_images(html: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,...", html)


def test_report_command_rebuilds_the_page(first_run, cli):
    output, _, _ = first_run
    # The folder's newest run: later session runs may have written to it since the first.
    summary = json.loads((output / "summary.json").read_text())
    original = (output / "report.html").read_text()
    (output / "report.html").unlink()
    proc = cli("report", output)
    assert proc.returncode == 0, proc.stderr[-3000:]
    page = (output / "report.html").read_text()
    # The same run's page again: every section, the same words and numbers (the plots'
    # bytes may differ with the renderer), its plots embedded.
    for section_id in SECTIONS:
        assert _without_images(_section(page, section_id)) == _without_images(
            _section(original, section_id)
        ), section_id
    assert _section(page, "evaluation").count("data:image/png;base64,") >= 3
    assert "payment_type" in _section(page, "data")
    assert _served_layer(summary) in _section(page, "model")
    model = summary["model_dir"] or "No model was pushed."
    assert f"<dt>Model</dt><dd>{model}</dd>" in _section(page, "summary")


def test_report_of_a_folder_without_a_run_is_a_usage_error(tmp_path, cli):
    proc = cli("report", tmp_path)
    assert proc.returncode == 2
    assert "holds no finished run" in proc.stderr


def test_tensorboard_command_points_at_the_training_logs(first_run, cli):
    output, _, _ = first_run
    proc = cli("tensorboard", output)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"--logdir {output / 'pipeline' / 'Trainer' / 'model_run'}" in proc.stdout
    assert list((output / "pipeline" / "Trainer" / "model_run").glob("*/train/events.out.*"))


def test_report_renders_in_headless_chromium(first_run, tmp_path):
    from PIL import Image, ImageStat

    output, _, _ = first_run
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is missing: `make test` installs Debian's chromium package"
    screenshot = tmp_path / "report.png"
    proc = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--hide-scrollbars",
            "--window-size=1280,3000",
            f"--screenshot={screenshot}",
            f"file://{output / 'report.html'}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert screenshot.exists(), proc.stderr[-3000:]
    console_errors = [
        line
        for line in proc.stderr.splitlines()
        if "CONSOLE" in line and ("Error" in line or "Failed" in line)
    ]
    assert console_errors == []
    image = Image.open(screenshot).convert("L")
    assert image.size == (1280, 3000)
    # Non-blank: real contrast, and many distinct grey levels (text and plots).
    assert ImageStat.Stat(image).stddev[0] > 20
    assert len(image.getcolors(maxcolors=256 * 256) or []) > 50


def _served_layer(summary: dict) -> str:
    """A layer the served model's table must list: `--model auto` may serve the trees."""
    return "GradientBoostedTreesModel" if summary["model"]["chosen"] == "gbdt" else "hidden_0"
