"""Certification of prescribers and healthcare settings: statuses, submissions, assessments."""
