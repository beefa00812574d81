"""CLI arguments become the typed config; defaults come from the config classes."""

import json
import re

import pytest

from components.blessing import BlessingThresholds
from components.trainer.hparams import HParams
from pipeline import cli, config_builder, contracts
from pipeline import config as config_lib
from pipeline.runners import beam_options

IN_MEMORY = (
    "--direct_running_mode=in_memory",
    "--direct_num_workers=1",
    f"--setup_file={config_lib.SETUP_FILE}",
    config_lib.PICKLE_LIBRARY_ARG,
)


def test_defaults_are_the_config_defaults():
    args = cli.build_parser().parse_args(["run"])
    config = config_builder.config_from_args(args)
    assert config.hparams == HParams()
    assert config.thresholds == BlessingThresholds()
    # The bundled taxi CSV is small: Beam runs in this process.
    assert config.beam_args == IN_MEMORY
    assert config.enable_cache
    assert config.output_dir.endswith("outputs")
    assert config.data_pattern == "data.csv"
    assert len(config.code_fingerprint) == 16


def test_options_reach_the_config(tmp_path):
    args = cli.build_parser().parse_args(
        [
            "run",
            "--data",
            str(tmp_path),
            "--output",
            str(tmp_path / "o"),
            "--hidden-units",
            "32,16",
            "--optimizer",
            "nesterov",
            "--min-auc",
            "0.5",
            "--no-cache",
            "--beam-arg=--direct_num_workers=1",
        ]
    )
    config = config_builder.config_from_args(args)
    assert config.hparams.hidden_units == (32, 16)
    assert config.hparams.optimizer == "nesterov"
    assert config.thresholds.min_auc == 0.5
    assert not config.enable_cache
    assert config.beam_args == IN_MEMORY + ("--direct_num_workers=1",)
    assert config.data_root == str(tmp_path) and config.data_pattern == "*.csv"
    assert config.serving_dir == str(tmp_path / "o" / "serving_model" / "deepline-taxi")


def test_help_lists_every_run_option_with_its_default(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    options = re.findall(r"^\s+(--[a-z-]+)", text, flags=re.M)
    assert {"--data", "--schema", "--output", "--hidden-units", "--min-auc", "--no-cache"} <= set(
        options
    )
    assert "(default: outputs)" in text
    assert f"(default: {HParams.max_epochs})" in text
    assert "the preset's (1024 for shallow, 256 for the others)" in text
    assert "(default: 256,128,64)" in text


def test_bad_option_value_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "--hidden-units", "wide"])
    assert exit_info.value.code == cli.EXIT_USAGE
    assert "expected comma-separated integers" in capsys.readouterr().err


def test_code_fingerprint_changes_with_module_code(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    before = config_builder.module_code_fingerprint(tmp_path)
    (tmp_path / "a.py").write_text("x = 2\n")
    assert config_builder.module_code_fingerprint(tmp_path) != before


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"deepline {cli.VERSION}"


@pytest.mark.parametrize("command", ["report", "tensorboard"])
def test_commands_on_a_folder_without_a_run_are_usage_errors(tmp_path, capsys, command):
    assert cli.main([command, str(tmp_path)]) == cli.EXIT_USAGE
    error = capsys.readouterr().err
    assert error.startswith("deepline: ") and str(tmp_path) in error
    assert "Traceback" not in error


def test_every_subcommand_documents_its_options_and_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    for command in ("run", "report", "tensorboard"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = capsys.readouterr().out
        for option in ("--quiet", "--log-format", "--verbose", "--debug"):
            assert option in text, (command, option)
        assert "(default: text)" in text


def test_cloud_storage_paths_stay_as_they_are():
    assert config_builder.split_data_path("gs://b/trips/") == ("gs://b/trips", "*.csv")
    assert config_builder.split_data_path("gs://b/trips/day.csv") == ("gs://b/trips", "day.csv")
    config = config_lib.PipelineConfig(output_dir="gs://b/out", schema="gs://b/schema.pbtxt")
    assert config.absolute().output_dir == "gs://b/out"
    assert config.absolute().schema == "gs://b/schema.pbtxt"


def test_compile_writes_a_pipeline_spec_for_the_image(tmp_path, capsys):
    import json

    spec = tmp_path / "pipeline.json"
    code = cli.main(
        ["compile", "--pipeline-root", "gs://b/deepline", "--output", str(spec), "--image", "i:1"]
    )
    assert code == 0, capsys.readouterr().err
    text = spec.read_text()
    assert json.loads(text)["pipelineSpec"]["pipelineInfo"]["name"] == "deepline-taxi"
    assert '"image": "i:1"' in text


def test_compile_options_become_the_runtime_parameter_defaults(tmp_path, capsys):
    import json

    spec = tmp_path / "pipeline.json"
    argv = ["compile", "--pipeline-root", "gs://b/deepline", "--output", str(spec)]
    argv += ["--max-epochs", "5", "--min-auc", "0.95", "--project", "p"]
    argv += ["--trainer-accelerator", "NVIDIA_TESLA_T4"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    parameters = json.loads(spec.read_text())["runtimeConfig"]["parameters"]
    trainer_config = json.loads(parameters["trainer_config"]["stringValue"])
    assert trainer_config[contracts.HPARAMS_KEY]["max_epochs"] == 5
    machine = trainer_config["ai_platform_training_args"]["worker_pool_specs"][0]["machine_spec"]
    assert machine["accelerator_type"] == "NVIDIA_TESLA_T4"
    assert '"lowerBound": 0.95' in parameters["eval_config"]["stringValue"]


def test_a_trainer_job_without_a_project_is_a_usage_error(tmp_path, capsys):
    argv = ["compile", "--pipeline-root", "gs://b/deepline", "--output", str(tmp_path / "s.json")]
    code = cli.main(argv + ["--trainer-machine-type", "n1-standard-8"])
    assert code == cli.EXIT_USAGE
    assert "--project" in capsys.readouterr().err


def test_deploy_without_credentials_says_how_to_log_in(tmp_path, capsys, monkeypatch):
    import google.auth
    from google.auth import exceptions

    def no_credentials(*args, **kwargs):
        raise exceptions.DefaultCredentialsError("none")

    monkeypatch.setattr(google.auth, "default", no_credentials)
    code = cli.main(["deploy", "--pipeline-root", "gs://b/deepline", "--schedule", "0 2 * * *"])
    error = capsys.readouterr().err
    assert code == cli.EXIT_FAILED
    assert "gcloud auth application-default login" in error
    assert "Traceback" not in error


def test_dataflow_options_become_beam_args_with_our_setup_file():
    args = cli.build_parser().parse_args(
        [
            "run",
            "--runner",
            "DataflowRunner",
            "--gcp-project",
            "p",
            "--gcp-region",
            "europe-west4",
            "--temp-location",
            "gs://b/tmp",
            "--max-num-workers",
            "8",
        ]
    )
    beam_args = config_builder.config_from_args(args).beam_args
    assert "--runner=DataflowRunner" in beam_args
    assert "--project=p" in beam_args and "--max_num_workers=8" in beam_args
    assert any(a.startswith("--setup_file=") and a.endswith("setup.py") for a in beam_args)


def test_dataflow_without_a_project_is_a_usage_error(capsys, tmp_path):
    code = cli.main(["run", "--runner", "DataflowRunner", "--output", str(tmp_path)])
    assert code == cli.EXIT_USAGE
    assert "project" in capsys.readouterr().err


def test_preset_and_any_hyperparameter_come_from_flags():
    args = cli.build_parser().parse_args(
        ["run", "--preset", "deep", "--lr-schedule", "one_cycle"]
        + ["--hparam", "l2=1e-4", "--hparam", "training_loop=custom", "--hparam", "max_norm=2"]
        + ["--tune", "3", "--tune-epochs", "2"]
    )
    config = config_builder.config_from_args(args)
    assert (config.tuner_trials, config.tuner_epochs) == (3, 2)
    hparams = config.hparams
    assert (hparams.preset, hparams.lr_schedule) == ("deep", "one_cycle")
    assert (hparams.l2, hparams.training_loop, hparams.max_norm) == (1e-4, "custom", 2)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--hparam", "warp_speed=9"], "Unknown trainer hyperparameters"),
        (["--preset", "self_normalizing", "--hparam", "batch_norm=true"], "batch_norm"),
        (["--hparam", "dropout=1.5"], "dropout"),
    ],
    ids=["unknown", "contradicts-preset", "out-of-range"],
)
def test_bad_hyperparameters_are_a_usage_error(argv, message, capsys):
    code = cli.main(["run", *argv])
    assert code == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_init_spec_writes_a_draft_that_loads(tmp_path, capsys):
    from components import dataset as spec

    csv_path = tmp_path / "shop.csv"
    rows = ["price,color,bought"] + [
        f"{1.5 * i},{'red' if i % 3 else 'blue'},{i % 2}" for i in range(60)
    ]
    csv_path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "spec.yaml"
    code = cli.main(["init-spec", str(csv_path), "--label", "bought", "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    draft = spec.load_spec(str(out))
    assert draft.label.column == "bought" and draft.label.kind.value == "binary"
    assert draft.feature("price").kind.value == "numeric"
    assert draft.feature("color").kind.value == "categorical"


def test_init_spec_with_an_unknown_label_is_a_usage_error(tmp_path, capsys):
    csv_path = tmp_path / "shop.csv"
    csv_path.write_text("price,bought\n1,0\n2,1\n")
    code = cli.main(["init-spec", str(csv_path), "--label", "nope"])
    assert code == cli.EXIT_USAGE
    assert "nope" in capsys.readouterr().err


def test_ingest_counts_every_row_and_quarantines_the_bad_one(tmp_path, taxi_rows, capsys):
    header = taxi_rows[0].split(",")
    bad = taxi_rows[2].split(",")
    bad[header.index("fare")] = "free"
    csv_path = tmp_path / "trips.csv"
    csv_path.write_text("\n".join([*taxi_rows[:2], ",".join(bad), *taxi_rows[3:]]) + "\n")
    argv = ["ingest", str(csv_path), "--output", str(tmp_path / "out")]

    assert cli.main(argv) == cli.EXIT_USAGE  # by default no row may be quarantined, as in `run`
    assert "quarantine" in capsys.readouterr().err

    code = cli.main([*argv, "--overwrite", "--max-quarantined-fraction", "0.05"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("40 rows in: 39 written (")
    assert "1 quarantined" in out
    (record,) = [
        json.loads(line) for line in (tmp_path / "out" / "quarantine" / "rows.jsonl").open()
    ]
    assert record["line"] == 3 and "fare" in record["reason"]


def test_beam_runs_in_process_for_small_input_and_on_every_core_for_large(tmp_path, monkeypatch):
    data = tmp_path / "trips.csv"
    data.write_text("x" * 100)
    args = ["run", "--data", str(data), "--output", str(tmp_path / "o")]
    config = config_builder.config_from_args(cli.build_parser().parse_args(args))
    assert config.beam_args == IN_MEMORY
    monkeypatch.setattr(beam_options, "SMALL_INPUT_BYTES", 99)
    config = config_builder.config_from_args(cli.build_parser().parse_args(args))
    assert config.beam_args == config_lib.DEFAULT_BEAM_ARGS
    # A running mode of one's own is kept, whatever the size.
    monkeypatch.setattr(beam_options, "SMALL_INPUT_BYTES", 1 << 30)
    mine = "--beam-arg=--direct_running_mode=multi_threading"
    config = config_builder.config_from_args(cli.build_parser().parse_args([*args, mine]))
    assert config.beam_args == (
        *config_lib.DEFAULT_BEAM_ARGS,
        "--direct_running_mode=multi_threading",
    )
