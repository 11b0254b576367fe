"""Prescribers: the Prescriber Enrollment Form, their certification and their delegates."""
