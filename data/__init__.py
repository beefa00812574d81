"""Bundled data sets, one folder each (data, schema, provenance)."""
