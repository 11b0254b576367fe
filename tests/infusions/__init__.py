"""Tests of the infusion pages."""
