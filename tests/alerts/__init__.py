"""Coded results and abnormal-result alerts."""
