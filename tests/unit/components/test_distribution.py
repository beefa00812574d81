"""Strategy choice: one device on CPU, MirroredStrategy across several devices.

Machines here have no GPU, so the multi-device case splits the CPU into two
logical devices, in a fresh process (devices are fixed once TF initializes).
"""

import subprocess
import sys
import textwrap

import tensorflow as tf

from components.trainer.distribution import choose_strategy


def test_no_gpu_means_the_default_single_device_strategy():
    strategy = choose_strategy(devices=[])
    assert strategy.num_replicas_in_sync == 1
    assert not isinstance(strategy, tf.distribute.MirroredStrategy)


def test_two_devices_train_with_mirrored_strategy():
    script = textwrap.dedent(
        """
        from pipeline import runtime
        runtime.configure_environment()
        import numpy as np, tensorflow as tf, tf_keras as keras
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from components.features import TransformedFeature
        from components.trainer import distribution, model
        from components.trainer.hparams import HParams
        devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = distribution.choose_strategy(devices)
        features = (TransformedFeature("a_xf", False), TransformedFeature("c_xf", True, 5))
        with strategy.scope():
            net = model.build_model(features, {"c_xf": 5}, HParams(hidden_units=(4,)))
            net.compile(optimizer="sgd", loss="binary_crossentropy")
        x = {"a_xf": np.ones((8, 1), "float32"), "c_xf": np.arange(8).reshape(8, 1) % 5}
        history = net.fit(x, np.ones((8, 1)), batch_size=8, epochs=1, verbose=0)
        print(type(strategy).__name__, strategy.num_replicas_in_sync,
              np.isfinite(history.history["loss"][0]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-3:] == ["MirroredStrategy", "2", "True"]
