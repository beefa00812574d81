"""Chooses the distribution strategy from the devices this process can see."""

from __future__ import annotations

import logging

import tensorflow as tf

logger = logging.getLogger(__name__)


def choose_strategy(devices: list[str] | None = None) -> tf.distribute.Strategy:
    """Returns MirroredStrategy over several GPUs, one-device otherwise.

    Args:
      devices: Logical device names to consider; None lists this process's
        GPUs (`tf.config.list_logical_devices("GPU")`).
    """
    if devices is None:
        devices = [d.name for d in tf.config.list_logical_devices("GPU")]
    if len(devices) > 1:
        strategy = tf.distribute.MirroredStrategy(devices)
    elif len(devices) == 1:
        strategy = tf.distribute.OneDeviceStrategy(devices[0])
    else:
        strategy = tf.distribute.get_strategy()  # the default: this process's CPU
    logger.info(
        "Training with %s on %s (%d replica(s)).",
        type(strategy).__name__,
        ", ".join(devices) or "CPU",
        strategy.num_replicas_in_sync,
    )
    return strategy
