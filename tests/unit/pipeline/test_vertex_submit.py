"""Vertex runner: submit and schedule a compiled spec, and their errors.

Nothing here touches the network: credentials are faked and the Vertex AI
client's calls that would send a request are replaced.
"""

import json
import types

import google.auth
import google.auth.exceptions
import pytest
from google.api_core import exceptions as api_exceptions
from google.auth.credentials import AnonymousCredentials

from components.blessing import BlessingThresholds
from components.trainer.hparams import HParams
from pipeline.config import PipelineConfig
from pipeline.contracts import HPARAMS_KEY
from pipeline.pipeline import runtime_parameter_values
from pipeline.runners import vertex
from pipeline.runners.vertex import DeploymentError, VertexTarget

# As conftest.py's `compiled_file` was compiled.
OUTPUT_DIR = "gs://deepline-test/outputs"
TARGET = VertexTarget(project="deepline-test", image="gcr.io/deepline-test/deepline:test")


def _config(**overrides) -> PipelineConfig:
    return PipelineConfig(output_dir=OUTPUT_DIR, code_fingerprint="test", **overrides)


def _no_credentials(scopes=None):
    raise google.auth.exceptions.DefaultCredentialsError("Your default credentials were not found")


def _credentials_for(project):
    return lambda scopes=None: (AnonymousCredentials(), project)


SEND = {
    "submit": lambda path, target: vertex.submit(path, target),
    "schedule": lambda path, target: vertex.schedule(path, target, "0 3 * * *"),
}


@pytest.mark.parametrize("send", SEND.values(), ids=SEND.keys())
def test_without_credentials_says_how_to_log_in(monkeypatch, compiled_file, send):
    monkeypatch.setattr(google.auth, "default", _no_credentials)
    with pytest.raises(DeploymentError, match="gcloud auth application-default login"):
        send(compiled_file, TARGET)


@pytest.mark.parametrize("send", SEND.values(), ids=SEND.keys())
def test_without_a_project_says_how_to_give_one(monkeypatch, compiled_file, send):
    monkeypatch.setattr(google.auth, "default", _credentials_for(None))
    with pytest.raises(DeploymentError, match="--project PROJECT_ID") as raised:
        send(compiled_file, VertexTarget())
    assert "gcloud config set project" in str(raised.value)


@pytest.mark.parametrize("send", SEND.values(), ids=SEND.keys())
def test_a_missing_spec_says_to_compile_first(tmp_path, send):
    with pytest.raises(DeploymentError, match="deepline compile --target vertex"):
        send(str(tmp_path / "missing.json"), TARGET)


@pytest.fixture
def fake_vertex(monkeypatch):
    """The real PipelineJob (offline) with its two network calls recorded instead."""
    from google.cloud import aiplatform

    calls = {}

    def submit(self, service_account=None, **_):
        calls["submit"] = {"job": self, "service_account": service_account}
        self._gca_resource.name = "projects/1/locations/us-central1/pipelineJobs/run-1"

    def create_schedule(self, **kwargs):
        calls["schedule"] = {"job": self, **kwargs}
        return types.SimpleNamespace(resource_name="projects/1/locations/us-central1/schedules/7")

    monkeypatch.setattr(aiplatform.PipelineJob, "submit", submit)
    monkeypatch.setattr(aiplatform.PipelineJob, "create_schedule", create_schedule)
    monkeypatch.setattr(google.auth, "default", _credentials_for("adc-project"))
    return calls


def test_submit_sends_the_spec_to_the_target(fake_vertex, compiled_file):
    target = VertexTarget(
        project="deepline-test", region="europe-west4", service_account="runner@x.iam"
    )
    name = vertex.submit(compiled_file, target, enable_caching=False)
    assert name == "projects/1/locations/us-central1/pipelineJobs/run-1"
    job = fake_vertex["submit"]["job"]
    assert (job.project, job.location) == ("deepline-test", "europe-west4")
    assert fake_vertex["submit"]["service_account"] == "runner@x.iam"
    assert job._gca_resource.runtime_config.gcs_output_directory == f"{OUTPUT_DIR}/pipeline"
    tasks = job._gca_resource.pipeline_spec["root"]["dag"]["tasks"]
    assert tasks["Trainer"]["cachingOptions"]["enableCache"] is False


def test_submit_uses_the_credentials_project_by_default(fake_vertex, compiled_file):
    vertex.submit(compiled_file, VertexTarget())
    assert fake_vertex["submit"]["job"].project == "adc-project"


def test_submit_sets_the_runtime_parameters(fake_vertex, compiled_file):
    values = runtime_parameter_values(_config(hparams=HParams(max_epochs=3)))
    vertex.submit(compiled_file, TARGET, parameter_values=values)
    sent = fake_vertex["submit"]["job"]._gca_resource.runtime_config.parameters
    assert json.loads(sent["trainer_config"].string_value)[HPARAMS_KEY]["max_epochs"] == 3


def test_schedule_sets_the_runtime_parameters(fake_vertex, compiled_file):
    values = runtime_parameter_values(_config(thresholds=BlessingThresholds(min_auc=0.95)))
    vertex.schedule(compiled_file, TARGET, "0 3 * * *", parameter_values=values)
    sent = fake_vertex["schedule"]["job"]._gca_resource.runtime_config.parameters
    assert sent["eval_config"].string_value == values["eval_config"]


def test_submit_refuses_unknown_parameters(fake_vertex, compiled_file):
    with pytest.raises(DeploymentError, match="learning_rate"):
        vertex.submit(compiled_file, TARGET, parameter_values={"learning_rate": 0.1})


@pytest.mark.parametrize(
    "error, hint",
    [
        (api_exceptions.PermissionDenied("caller lacks permission"), "roles/aiplatform.user"),
        (google.auth.exceptions.RefreshError("token expired"), "application-default login"),
        (google.auth.exceptions.TransportError("no route to host"), "network connection"),
    ],
    ids=["permission-denied", "expired-credentials", "no-network"],
)
def test_a_failed_request_says_what_to_do(monkeypatch, fake_vertex, compiled_file, error, hint):
    from google.cloud import aiplatform

    def fail(self, **_):
        raise error

    monkeypatch.setattr(aiplatform.PipelineJob, "submit", fail)
    with pytest.raises(DeploymentError, match=hint) as raised:
        vertex.submit(compiled_file, TARGET)
    assert str(error.args[0]) in str(raised.value)


def test_a_file_that_is_not_a_spec_is_refused(tmp_path):
    path = tmp_path / "notes.json"
    path.write_text('{"hello": "world"}')
    with pytest.raises(DeploymentError, match="is not a compiled Vertex AI pipeline"):
        vertex.submit(str(path), TARGET)


def test_schedule_creates_a_cron_schedule(fake_vertex, compiled_file):
    name = vertex.schedule(compiled_file, TARGET, "TZ=Europe/Paris 0 3 * * 1")
    assert name == "projects/1/locations/us-central1/schedules/7"
    call = fake_vertex["schedule"]
    assert call["cron"] == "TZ=Europe/Paris 0 3 * * 1"
    assert call["display_name"] == "deepline-taxi"
    assert call["job"].project == "deepline-test"


@pytest.mark.parametrize("cron", ["daily", "0 3 * *", "0 3 * * * *", ""], ids=repr)
def test_schedule_refuses_a_malformed_cron(compiled_file, cron):
    with pytest.raises(ValueError, match="five fields"):
        vertex.schedule(compiled_file, TARGET, cron)
