"""A real Airflow runs the DAG file `deepline compile --target airflow` writes.

Airflow lives in a temporary AIRFLOW_HOME with its SQLite database; `make test` installs it (the
`airflow` extra). The DAG file must import without errors, hold one task per TFX component with
the pipeline's edges, and `airflow dags test` must run the taxi pipeline to a pushed model that
serves raw rows; a second run on unchanged data reuses every component from the ML Metadata the
first one wrote. Training is short (two epochs, thresholds at 0): this checks the orchestration,
not the model.
"""

import csv
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.runners.airflow import DAG_IMPORT_TIMEOUT_SECONDS

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).with_name("airflow")
DAG_ID = "deepline-taxi"
# Each task's upstream tasks: the components' data dependencies (and the gate before Transform).
UPSTREAM = {
    "CsvExampleGen": [],
    "ImportSchemaGen": [],
    "StatisticsGen": ["CsvExampleGen"],
    "ExampleValidator": ["ImportSchemaGen", "StatisticsGen"],
    "DataValidationGate": ["ExampleValidator"],
    "Transform": ["CsvExampleGen", "DataValidationGate", "ImportSchemaGen"],
    "Trainer": ["ImportSchemaGen", "Transform"],
    "latest_blessed_model_resolver": [],
    "Evaluator": ["CsvExampleGen", "Trainer", "latest_blessed_model_resolver"],
    "Pusher": ["Evaluator", "Trainer"],
}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not AIRFLOW.exists(),
        reason=f"Airflow is not installed beside {sys.executable}: make test installs it "
        '(pip install -e ".[airflow]" -c constraints-airflow.txt)',
    ),
]


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    """An Airflow with its own home and SQLite database: airflow(*args) -> CompletedProcess."""
    home = tmp_path_factory.mktemp("airflow_home")
    (home / "dags").mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": str(DAG_IMPORT_TIMEOUT_SECONDS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
    }
    # The DAG file sets the Keras mode itself, as it must under an Airflow that knows nothing
    # of Deepline.
    env.pop("TF_USE_LEGACY_KERAS", None)

    def run(*args):
        return subprocess.run(
            [str(AIRFLOW), *map(str, args)],
            capture_output=True,
            text=True,
            cwd=home,
            env=env,
            timeout=1800,
        )

    migrated = run("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    run.home, run.env = home, env
    return run


@pytest.fixture(scope="module")
def dag_run_output(airflow, cli, tmp_path_factory):
    """The DAG file compiled into Airflow's DAGs folder; returns the pipeline root."""
    output = tmp_path_factory.mktemp("airflow_runs")
    proc = cli(
        *("compile", "--target", "airflow", "--output", airflow.home / "dags" / "deepline_taxi.py"),
        *("--pipeline-root", output, "--start-date", "2024-01-01", "--retries", 0),
        *("--max-epochs", 2, "--min-auc", 0, "--min-accuracy", 0),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return output


def _last_json_line(text: str):
    """Airflow logs before its answer; the answer is the last line."""
    return json.loads(text.strip().splitlines()[-1])


def test_the_dag_file_imports_without_errors(airflow, dag_run_output):
    errors = airflow("dags", "list-import-errors", "-o", "json")
    assert errors.returncode == 0, errors.stderr[-3000:]
    assert _last_json_line(errors.stdout) == []


def test_each_component_is_a_task_with_the_pipeline_edges(airflow, dag_run_output):
    script = (
        "import json; from airflow.models import DagBag; "
        f"dag = DagBag(include_examples=False).get_dag({DAG_ID!r}); "
        "print(json.dumps({t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks})); "
        "print(json.dumps([dag.max_active_runs, dag.catchup, dag.schedule_interval]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=airflow.home,
        env=airflow.env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    tasks, settings = (json.loads(line) for line in proc.stdout.strip().splitlines()[-2:])
    assert tasks == UPSTREAM
    assert settings == [1, False, None]  # one run at a time, no catch-up, run when triggered


@pytest.fixture(scope="module")
def first_dag_run(airflow, dag_run_output):
    proc = airflow("dags", "test", DAG_ID, "2024-01-02")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def _executions(output: Path) -> list[dict]:
    """Every execution in the runs' ML Metadata: component, state ("complete", "cached"), run."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    connection = metadata_store_pb2.ConnectionConfig()
    connection.sqlite.filename_uri = str(output / "metadata.sqlite")
    connection.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    store = metadata_store.MetadataStore(connection)
    return [
        {key: value.string_value for key, value in execution.properties.items()}
        for execution in store.get_executions()
    ]


def _raw_example(row: dict[str, str], types: dict[str, str]) -> bytes:
    """A serialized tf.train.Example with raw CSV names; empty cells and the label left out."""
    import tensorflow as tf

    feature = {}
    for name, text in row.items():
        if text == "" or name == "tips":
            continue
        if types.get(name) == "float":
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(text)]))
        elif types.get(name) == "int":
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(text)]))
        else:
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode()]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_a_dag_run_pushes_a_model_that_serves_raw_rows(first_dag_run, dag_run_output):
    import tensorflow as tf
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx.utils import io_utils

    first = [e for e in _executions(dag_run_output) if e["run_id"].startswith("manual__2024-01-02")]
    assert {e["component_id"]: e["state"] for e in first} == dict.fromkeys(UPSTREAM, "complete") | {
        "latest_blessed_model_resolver": "cached"  # how TFX records any resolver
    }
    versions = list((dag_run_output / "serving_model" / DAG_ID).iterdir())
    assert len(versions) == 1
    schema = io_utils.parse_pbtxt_file(
        str(ROOT / "data" / "taxi" / "schema.pbtxt"), schema_pb2.Schema()
    )
    kinds = {schema_pb2.FLOAT: "float", schema_pb2.INT: "int"}
    types = {f.name: kinds.get(f.type) for f in schema.feature}
    with open(ROOT / "data" / "taxi" / "data.csv") as f:
        rows = list(itertools.islice(csv.DictReader(f), 20))
    rows[1] = dict(rows[1], company="", trip_seconds="")  # missing values
    serve = tf.saved_model.load(str(versions[0])).signatures["serving_default"]
    batch = tf.constant([_raw_example(row, types) for row in rows])
    probabilities = serve(examples=batch)["probability"].numpy()
    assert probabilities.shape == (20, 1)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    assert np.ptp(probabilities) > 0  # the model uses its inputs


def test_a_second_run_on_unchanged_data_reuses_every_component(
    airflow, first_dag_run, dag_run_output
):
    versions = sorted(p.name for p in (dag_run_output / "serving_model" / DAG_ID).iterdir())
    proc = airflow("dags", "test", DAG_ID, "2024-01-03")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    second = [
        e for e in _executions(dag_run_output) if e["run_id"].startswith("manual__2024-01-03")
    ]
    assert {e["component_id"]: e["state"] for e in second} == dict.fromkeys(UPSTREAM, "cached")
    after = sorted(p.name for p in (dag_run_output / "serving_model" / DAG_ID).iterdir())
    assert after == versions  # the live model stays
