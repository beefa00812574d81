"""Deepline package: the pipeline, its TFX module code and the bundled data.

This is also what Beam workers (Dataflow) and pipeline images install, so it
carries the data specs and schemas. Exact versions live in requirements.lock, and those of
the `airflow` extra in constraints-airflow.txt.
"""

from setuptools import find_packages, setup

setup(
    name="deepline",
    version="0.1.0",
    description="A TFX training pipeline: raw data to a validated, evaluated, served model.",
    python_requires=">=3.9,<3.11",
    packages=find_packages(
        include=["pipeline", "pipeline.*", "components", "components.*", "data", "data.*"]
    ),
    package_data={
        "data": ["*/*.csv", "*/*.pbtxt", "*/*.md", "*/*.yaml", "*/*.tfrecord.gz", "*/*.py"]
    },
    install_requires=[
        "tfx==1.16.0",
        "apache-beam[gcp]>=2.59,<2.65",
        "pyyaml>=6",
        "matplotlib>=3.8,<3.10",
        "croniter>=2.0.2",
        # The gradient-boosted tree family; its release for TF 2.16.2.
        "tensorflow-decision-forests==1.9.2",
    ],
    extras_require={
        "dev": ["pytest", "ruff"],
        # Scheduled runs on Airflow (`deepline compile --target airflow`). Install with the
        # pinned set that keeps TFX's protobuf 3: pip install -e .[airflow] -c
        # constraints-airflow.txt (`make lock-airflow` writes it).
        "airflow": ["apache-airflow==2.10.5"],
    },
    entry_points={"console_scripts": ["deepline=pipeline.cli:main"]},
)
