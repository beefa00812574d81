"""Strategy choice: one device on CPU, MirroredStrategy across several devices.

Machines here have no GPU, so the multi-device case splits the CPU into two
logical devices, in a fresh process (devices are fixed once TF initializes).
"""

import tensorflow as tf

from components.trainer.distribution import choose_strategy


def test_no_gpu_means_the_default_single_device_strategy():
    strategy = choose_strategy(devices=[])
    assert strategy.num_replicas_in_sync == 1
    assert not isinstance(strategy, tf.distribute.MirroredStrategy)


def test_two_devices_train_with_mirrored_strategy(on_two_devices):
    words = on_two_devices(
        """
        from components.dataset import TransformedFeature
        from components.trainer import model
        from components.trainer.hparams import HParams
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
    assert words[-3:] == ["MirroredStrategy", "2", "True"]


def test_mixed_precision_on_gpus_only():
    from components.trainer.distribution import choose_precision

    assert choose_precision(["/job:localhost/replica:0/task:0/device:GPU:0"]) == "mixed_float16"
    assert choose_precision([]) == "float32"


def test_under_mixed_precision_hidden_layers_compute_in_float16_and_the_output_in_float32():
    import tf_keras as keras

    from components.dataset import TransformedFeature
    from components.trainer import model as model_lib
    from components.trainer.hparams import HParams

    features = (TransformedFeature("a_xf", is_categorical=False),)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        dnn = model_lib.build_model(features, {}, HParams(hidden_units=(8, 4)))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert dnn.get_layer("hidden_0").compute_dtype == "float16"
    assert dnn.get_layer("hidden_0").kernel.dtype == tf.float32  # weights stay float32
    assert dnn.get_layer("probability").compute_dtype == "float32"
    assert dnn({"a_xf": tf.ones([2, 1])}).dtype == tf.float32
