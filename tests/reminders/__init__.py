"""Reminder tests."""
