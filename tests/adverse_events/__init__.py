"""Adverse-event tests."""
