"""Infusion records kept by the receiving infusion site."""
