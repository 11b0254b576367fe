"""Tests of the patient documents: rules and pages."""
