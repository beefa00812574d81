"""Which data set a run uses: --dataset (bundled) or --spec (your own); what its spec decides."""

from pathlib import Path

import pytest

from pipeline import cli, config_builder
from pipeline import config as config_lib

DATA = Path(__file__).parents[3] / "data"


def _config(*argv):
    return config_builder.config_from_args(cli.build_parser().parse_args(["run", *argv]))


def test_the_default_data_set_is_the_bundled_taxi_with_its_curated_schema():
    config = _config()
    assert config.dataset.origin == str(DATA / "taxi" / "spec.yaml")
    assert (config.data_root, config.data_pattern) == (str(DATA / "taxi"), "data.csv")
    assert config.schema == str(DATA / "taxi" / "schema.pbtxt")
    assert config.pipeline_name == "deepline-taxi"
    assert config.split == config_lib.SplitRatio(14, 3, 3)


def test_a_bundled_data_set_by_name_brings_its_data_name_and_no_schema():
    config = _config("--dataset", "penguins")
    assert config.dataset.origin == str(DATA / "penguins" / "spec.yaml")
    assert (config.data_root, config.data_pattern) == (str(DATA / "penguins"), "data.csv")
    assert config.schema is None  # inferred from the data by SchemaGen
    assert config.pipeline_name == "deepline-penguins"
    assert config.dataset.label.classes == ("Adelie", "Chinstrap", "Gentoo")


def test_a_spec_of_ones_own_and_options_that_replace_what_it_says(tmp_path):
    (tmp_path / "shop").mkdir()
    spec = tmp_path / "shop" / "spec.yaml"
    spec.write_text(
        "name: Shop Orders\n"
        "source: {format: csv, path: orders, spans: 'day-{SPAN}', pattern: '*.csv'}\n"
        "label: {column: total, kind: regression}\n"
        "features: {items: numeric, store: {kind: categorical, transform: hash, bins: 8}}\n"
        "split: {train: 0.8, eval: 0.1, test: 0.1}\n"
    )
    config = _config("--spec", str(spec))
    assert config.data_root == str(tmp_path / "shop" / "orders")
    assert config.data_pattern == "day-{SPAN}/*.csv"
    assert config.uses_spans
    assert config.pipeline_name == "deepline-shop-orders"
    assert config.split == config_lib.SplitRatio(8, 1, 1)
    config = _config("--spec", str(spec), "--data", str(tmp_path / "x.csv"), "--pipeline-name", "p")
    assert (config.data_root, config.data_pattern) == (str(tmp_path), "x.csv")
    assert config.pipeline_name == "p"


def test_dataset_and_spec_exclude_each_other(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["run", "--dataset", "taxi", "--spec", "s.yaml"])
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "source: {format: csv, path: d.csv}\nlabel: {column: y, kind: binary, derive: x < z}\n"
            "features: {x: numeric}\n",
            "label.derive: 'z' is not declared under features",
        ),
        ("source: {format: csv}\n", "spec.yaml"),
    ],
    ids=["derived-label", "invalid"],
)
def test_a_spec_the_pipeline_cannot_run_is_a_usage_error_naming_it(tmp_path, capsys, text, message):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    code = cli.main(["run", "--spec", str(spec), "--output", str(tmp_path / "o")])
    assert code == 2
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error


def test_a_jsonl_source_reads_jsonl_files_from_a_folder(tmp_path):
    (tmp_path / "events").mkdir()
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "source: {format: jsonl, path: events}\n"
        "label: {column: y, kind: regression}\nfeatures: {x: numeric}\n"
    )
    config = _config("--spec", str(spec))
    assert (config.data_root, config.data_pattern) == (str(tmp_path / "events"), "*.jsonl")
    one = tmp_path / "day.jsonl"
    config = _config("--spec", str(spec), "--data", str(one))
    assert (config.data_root, config.data_pattern) == (str(tmp_path), "day.jsonl")
