"""BeamOptions: the exact Beam arguments per runner, and each validation error."""

import re

import pytest
from tfx.utils import dependency_utils

from pipeline.config import DEFAULT_BEAM_ARGS, PACKAGE_ROOT, PICKLE_LIBRARY_ARG, SETUP_FILE
from pipeline.runners.beam_options import BeamOptions

DATAFLOW = {
    "runner": "DataflowRunner",
    "project": "deepline-test",
    "region": "europe-west4",
    "temp_location": "gs://deepline-test/tmp",
}


def test_direct_runner_is_the_pipeline_default():
    assert BeamOptions().to_args() == DEFAULT_BEAM_ARGS


def test_direct_runner_with_four_workers():
    assert BeamOptions(direct_num_workers=4).to_args() == (
        "--direct_running_mode=multi_processing",
        "--direct_num_workers=4",
        f"--setup_file={SETUP_FILE}",
        PICKLE_LIBRARY_ARG,
    )


def test_direct_runner_in_this_process():
    assert BeamOptions(in_memory=True).to_args() == (
        "--direct_running_mode=in_memory",
        "--direct_num_workers=1",
        f"--setup_file={SETUP_FILE}",
        PICKLE_LIBRARY_ARG,
    )


@pytest.mark.parametrize(
    "options", [BeamOptions(), BeamOptions(in_memory=True), BeamOptions(**DATAFLOW)]
)
def test_tfx_does_not_pack_its_own_installation_for_the_workers(options, monkeypatch):
    # Given arguments that name no worker package, every TFX Beam executor builds
    # an sdist of the tfx package in a temporary folder it never deletes.
    def pack():
        raise AssertionError("TFX packed its installation for the Beam workers.")

    monkeypatch.setattr(dependency_utils, "build_ephemeral_package", pack)
    args = list(options.to_args())
    assert dependency_utils.make_beam_dependency_flags(args) == args


def test_dataflow_runner_installs_our_package_on_the_workers():
    assert BeamOptions(**DATAFLOW).to_args() == (
        "--runner=DataflowRunner",
        "--project=deepline-test",
        "--region=europe-west4",
        "--temp_location=gs://deepline-test/tmp",
        f"--setup_file={PACKAGE_ROOT / 'setup.py'}",
        PICKLE_LIBRARY_ARG,
    )
    assert (PACKAGE_ROOT / "setup.py").is_file()


def test_dataflow_runner_with_every_option():
    options = BeamOptions(
        **DATAFLOW,
        staging_location="gs://deepline-test/staging",
        max_num_workers=8,
        machine_type="n1-standard-4",
        setup_file="/src/setup.py",
    )
    assert options.to_args() == (
        "--runner=DataflowRunner",
        "--project=deepline-test",
        "--region=europe-west4",
        "--temp_location=gs://deepline-test/tmp",
        "--staging_location=gs://deepline-test/staging",
        "--setup_file=/src/setup.py",
        "--max_num_workers=8",
        "--machine_type=n1-standard-4",
        PICKLE_LIBRARY_ARG,
    )


@pytest.mark.parametrize(
    "options, message",
    [
        ({"runner": "SparkRunner"}, "Unknown Beam runner 'SparkRunner'"),
        ({"direct_num_workers": -1}, "--direct_num_workers=N with N >= 0"),
        ({**DATAFLOW, "project": None}, "DataflowRunner needs project: pass --project="),
        ({**DATAFLOW, "region": None}, "DataflowRunner needs region: pass --region="),
        (
            {**DATAFLOW, "temp_location": None},
            "DataflowRunner needs temp_location: pass --temp_location=gs://",
        ),
        (
            {**DATAFLOW, "temp_location": "/tmp/beam"},
            "temp_location on Cloud Storage, got '/tmp/beam': pass --temp_location=gs://",
        ),
        (
            {**DATAFLOW, "staging_location": "staging"},
            "staging_location on Cloud Storage, got 'staging': pass --staging_location=gs://",
        ),
        ({**DATAFLOW, "max_num_workers": 0}, "--max_num_workers=N with N >= 1"),
    ],
    ids=[
        "unknown-runner",
        "negative-direct-workers",
        "dataflow-without-project",
        "dataflow-without-region",
        "dataflow-without-temp-location",
        "dataflow-local-temp-location",
        "dataflow-local-staging-location",
        "dataflow-zero-workers",
    ],
)
def test_invalid_options_say_which_flag_to_pass(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        BeamOptions(**options)
