"""Deepline pipeline assembly: configuration, the pipeline factory, runners and the CLI."""
