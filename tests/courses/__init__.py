"""Tests of the course pages."""
