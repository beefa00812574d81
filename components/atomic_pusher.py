"""A Pusher whose serving folder never holds a half-written model.

TFX's filesystem Pusher copies the model file by file into
`<base>/<version>/`; a process killed mid-copy leaves a partial model where a
model server looks for new versions. Here the copy goes to a hidden sibling
(`<base>/.<version>.incomplete`) and is renamed into place only when complete:
on one filesystem a rename is atomic, so the version folder either does not
exist or holds the whole model. A leftover `.incomplete` folder from a killed
run is removed by the next push.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

from absl import logging
from tfx import types
from tfx.components.pusher import component as pusher_component
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.components.base import executor_spec
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

INCOMPLETE_SUFFIX = ".incomplete"


def publish_atomically(model_dir: str, base_directory: str, version: str) -> str:
    """Copies `model_dir` to `<base_directory>/<version>` through a temporary name.

    Returns:
      The serving path of the version.

    Raises:
      FileExistsError: the version already exists (it is never overwritten).
    """
    serving_path = os.path.join(base_directory, version)
    if os.path.exists(serving_path):
        raise FileExistsError(f"Model version {serving_path} already exists; not overwriting it.")
    os.makedirs(base_directory, exist_ok=True)
    for name in os.listdir(base_directory):  # debris of pushes that were killed
        if name.startswith(".") and name.endswith(INCOMPLETE_SUFFIX):
            shutil.rmtree(os.path.join(base_directory, name), ignore_errors=True)
    staging = os.path.join(base_directory, f".{version}{INCOMPLETE_SUFFIX}")
    shutil.copytree(model_dir, staging)
    os.rename(staging, serving_path)
    return serving_path


def _unused_version(base_directory: str) -> str:
    """A Unix-timestamp version, moved past any version pushed in the same second."""
    version = int(time.time())
    while os.path.exists(os.path.join(base_directory, str(version))):
        version += 1
    return str(version)


class AtomicPushExecutor(pusher_executor.Executor):
    """Pusher executor that publishes a blessed model with one atomic rename."""

    def Do(  # noqa: N802 - TFX executor interface
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        model_push = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY]
        )
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(model_push)
            return
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination
        )
        if destination.WhichOneof("destination") != "filesystem":
            raise NotImplementedError("AtomicPusher pushes to a filesystem destination only.")
        model_path = self.GetModelPath(input_dict)
        base_directory = destination.filesystem.base_directory
        version = _unused_version(base_directory)
        serving_path = publish_atomically(model_path, base_directory, version)
        logging.info("Model published to %s.", serving_path)
        io_utils.copy_dir(model_path, model_push.uri)  # TFX keeps an archive copy too
        self._MarkPushed(model_push, pushed_destination=serving_path, pushed_version=version)


class AtomicPusher(pusher_component.Pusher):
    """TFX Pusher with `AtomicPushExecutor`; same inputs, outputs and parameters."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(AtomicPushExecutor)
