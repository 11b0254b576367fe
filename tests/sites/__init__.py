"""Tests of the authorized representative's site pages."""
