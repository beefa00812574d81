"""`deepline compile --target airflow`: the DAG file keeps the command line, paths absolute, and
rebuilds the same configuration anywhere; what it refuses. Airflow itself runs in
tests/e2e/test_airflow.py."""

import ast
import datetime

import pytest

from pipeline import cli, config_builder
from pipeline.runners import airflow

TODAY = datetime.date(2024, 3, 8)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (
            ["compile", "--pipeline-root", "runs", "--max-epochs", "1"],
            ["compile", "--pipeline-root", "{cwd}/runs", "--max-epochs", "1"],
        ),
        (
            ["compile", "--data=trips.csv", "--spec", "s/spec.yaml", "--schema", "gs://b/s.pbtxt"],
            ["compile", "--data={cwd}/trips.csv", "--spec", "{cwd}/s/spec.yaml"]
            + ["--schema", "gs://b/s.pbtxt"],
        ),
        (
            ["compile", "--output", "dags/deepline_taxi.py", "--start-date", "2024-01-01"],
            ["compile", "--output", "{cwd}/dags/deepline_taxi.py", "--start-date", "2024-01-01"],
        ),
    ],
    ids=["pipeline-root", "equals-form-and-uri-kept", "given-start-date-kept"],
)
def test_dag_argv_makes_paths_absolute_and_fixes_the_start_date(
    argv, expected, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    expected = [arg.format(cwd=tmp_path) for arg in expected]
    if "--start-date" not in argv:
        expected = expected + ["--start-date", "2024-03-08"]
    assert airflow.dag_argv(argv, TODAY) == expected


def test_default_dag_file_is_named_after_the_data_set():
    assert airflow.default_dag_file("deepline-taxi") == "deepline_taxi.py"
    assert airflow.default_dag_file("deepline-imdb-small") == "deepline_imdb_small.py"


def _baked_argv(dag_file) -> list[str]:
    """DEEPLINE_ARGV of a written DAG file, read as Python (the file is not run)."""
    tree = ast.parse(dag_file.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "DEEPLINE_ARGV":
            return ast.literal_eval(node.value)
    raise AssertionError(f"no DEEPLINE_ARGV in {dag_file}")


def test_the_dag_file_rebuilds_the_same_config_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    argv = ["compile", "--target", "airflow", "--output", "dags/deepline_taxi.py"]
    argv += ["--pipeline-root", "runs", "--max-epochs", "2", "--schedule", "0 2 * * *"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    dag_file = tmp_path / "dags" / "deepline_taxi.py"
    assert capsys.readouterr().out.strip() == str(dag_file)

    baked = _baked_argv(dag_file)
    assert baked[baked.index("--pipeline-root") + 1] == str(tmp_path / "runs")
    assert "--start-date" in baked  # the day of compiling, not of parsing
    # Airflow parses the file in its own folder, with its own environment.
    monkeypatch.chdir(tmp_path / "elsewhere")
    config = config_builder.config_from_args(cli.build_parser().parse_args(baked))
    assert config.output_dir == str(tmp_path / "runs")
    assert config.metadata_path == str(tmp_path / "runs" / "metadata.sqlite")
    assert config.hparams.max_epochs == 2
    assert config.pipeline_name == "deepline-taxi"
    assert config.enable_cache and config.cloud_training is None
    settings = airflow.settings_from_args(cli.build_parser().parse_args(baked))
    assert (settings.schedule, settings.catchup, settings.retries) == ("0 2 * * *", False, 1)
    text = dag_file.read_text()
    assert "dag = airflow_dag.dag_from_argv(DEEPLINE_ARGV, __file__)" in text
    assert "runtime.configure_environment()" in text.split("from pipeline import airflow_dag")[0]


def test_without_output_the_dag_file_is_named_after_the_pipeline(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["compile", "--target", "airflow", "--pipeline-root", "runs", "--dataset", "penguins"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert (tmp_path / "deepline_penguins.py").is_file()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--output", "dag.json"], "Airflow reads DAGs from .py files"),
        (["--schedule", "61 * * * *"], "cron expression '61 * * * *' is not valid"),
        (["--start-date", "8 March"], "--start-date '8 March' is not a date: write it YYYY-MM-DD"),
        (["--retries", "-1"], "--retries must be 0 or more"),
        (["--pipeline-root", "gs://b/runs"], "must be a folder of the Airflow workers"),
        (["--trainer-machine-type", "n1-standard-8"], "An Airflow task trains on its"),
    ],
    ids=[
        "not-a-py-file",
        "bad-cron",
        "bad-start-date",
        "negative-retries",
        "uri-root",
        "trainer-job",
    ],
)
def test_airflow_compile_refuses_with_a_usage_error(extra, message, tmp_path, capsys):
    argv = ["compile", "--target", "airflow", "--pipeline-root", str(tmp_path / "runs")]
    argv += ["--output", str(tmp_path / "deepline_taxi.py"), *extra]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_a_vertex_compile_with_a_schedule_points_at_deploy(tmp_path, capsys):
    argv = ["compile", "--pipeline-root", "gs://b/deepline", "--schedule", "0 2 * * *"]
    assert cli.main(argv + ["--output", str(tmp_path / "p.json")]) == cli.EXIT_USAGE
    assert "deepline deploy --target vertex --schedule '0 2 * * *'" in capsys.readouterr().err


def test_dag_settings_become_the_dag_arguments():
    pytest.importorskip("pendulum", reason="the Airflow extra is not installed")
    settings = airflow.DagSettings(start_date=TODAY, schedule="@daily", retries=2)
    arguments = settings.dag_arguments()
    assert arguments["start_date"].isoformat() == "2024-03-08T00:00:00+00:00"
    assert (arguments["schedule"], arguments["catchup"], arguments["max_active_runs"]) == (
        "@daily",
        False,
        1,
    )
    assert arguments["default_args"]["retries"] == 2
    assert arguments["default_args"]["retry_delay"] == datetime.timedelta(minutes=5)
