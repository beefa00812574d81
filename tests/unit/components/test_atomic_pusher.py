"""The atomic Pusher through its executor's Do(): a whole model or none in the serving folder."""

import json
import os
import shutil

import pytest
from tfx.types import standard_artifacts

from components import atomic_pusher


def _model(tmp_path):
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")
    serving = tmp_path / "model" / "Format-Serving"
    (serving / "variables").mkdir(parents=True, exist_ok=True)
    (serving / "saved_model.pb").write_bytes(b"graph")
    (serving / "variables" / "variables.index").write_bytes(b"index")
    return model


def _do(tmp_path, blessed: bool):
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp_path / "blessing")
    blessing.set_int_custom_property("blessed", int(blessed))
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp_path / "pushed")
    base = tmp_path / "serving"
    atomic_pusher.AtomicPushExecutor().Do(
        {"model": [_model(tmp_path)], "model_blessing": [blessing]},
        {"pushed_model": [pushed]},
        {"push_destination": json.dumps({"filesystem": {"base_directory": str(base)}})},
    )
    return base, pushed


def test_blessed_model_lands_whole_under_a_new_version(tmp_path):
    base, pushed = _do(tmp_path, blessed=True)
    (version,) = os.listdir(base)
    assert version.isdigit()
    assert (base / version / "saved_model.pb").read_bytes() == b"graph"
    assert (base / version / "variables" / "variables.index").exists()
    assert pushed.get_int_custom_property("pushed") == 1
    assert pushed.get_string_custom_property("pushed_destination") == str(base / version)


def test_unblessed_model_is_not_pushed(tmp_path):
    base, pushed = _do(tmp_path, blessed=False)
    assert not base.exists()
    assert pushed.get_int_custom_property("pushed") == 0


def test_a_copy_that_dies_half_way_leaves_no_version_folder(tmp_path, monkeypatch):
    model_dir = _model(tmp_path).uri + "/Format-Serving"
    base = tmp_path / "serving"

    def copy_then_die(src, dst):
        os.makedirs(dst)
        shutil.copy(os.path.join(src, "saved_model.pb"), dst)
        raise KeyboardInterrupt("killed mid-copy")

    monkeypatch.setattr(atomic_pusher.shutil, "copytree", copy_then_die)
    with pytest.raises(KeyboardInterrupt):
        atomic_pusher.publish_atomically(model_dir, str(base), "100")
    assert os.listdir(base) == [".100.incomplete"]  # only the hidden staging copy
    monkeypatch.undo()
    atomic_pusher.publish_atomically(model_dir, str(base), "101")
    assert os.listdir(base) == ["101"]  # debris removed, new version whole


def test_two_pushes_in_one_second_get_two_versions(tmp_path):
    base, _ = _do(tmp_path, blessed=True)
    _do(tmp_path, blessed=True)
    assert len(os.listdir(base)) == 2


def test_an_existing_version_is_never_overwritten(tmp_path):
    model_dir = _model(tmp_path).uri + "/Format-Serving"
    atomic_pusher.publish_atomically(model_dir, str(tmp_path / "s"), "7")
    with pytest.raises(FileExistsError, match="already exists"):
        atomic_pusher.publish_atomically(model_dir, str(tmp_path / "s"), "7")
