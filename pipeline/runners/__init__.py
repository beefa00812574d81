"""Runners: one thin module per execution target."""
