# The image every Deepline component runs in on Vertex AI Pipelines
# (pipeline/runners/vertex.py compiles specs that name it). Build and push from the
# repository root, e.g.:
#   docker build -t gcr.io/PROJECT/deepline:0.1.0 .
#   docker push gcr.io/PROJECT/deepline:0.1.0
# then pass that tag as the Vertex target's image.

# TFX 1.16 with its TensorFlow, Beam and the Kubeflow V2 executor entry point.
FROM gcr.io/tfx-oss-public/tfx:1.16.0

# Every process in the container (executors, Beam workers) trains with tf_keras;
# TensorFlow reads this at import. See pipeline/runtime.py.
ENV TF_USE_LEGACY_KERAS=1

# vertex.py rewrites paths under the checkout (bundled data, setup.py) to this folder.
WORKDIR /pipeline

# requirements.lock is resolved for Python 3.10.
RUN python -c "import sys; assert sys.version_info[:2] == (3, 10), sys.version"

# The tested versions: pip keeps what the base image already has at the locked
# version and installs only the rest. A layer of its own, rebuilt only when the lock changes.
COPY requirements.lock ./
RUN python -m pip install --no-cache-dir --upgrade "pip>=24,<27" \
    && python -m pip install --no-cache-dir -r requirements.lock

# Our package, editable so that it stays at /pipeline with its data (as in `make`).
COPY setup.py pyproject.toml ./
COPY pipeline/ pipeline/
COPY components/ components/
COPY data/ data/
RUN python -m pip install --no-cache-dir --no-deps -e .
