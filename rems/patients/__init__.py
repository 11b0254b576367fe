"""Patients: the Patient Enrollment Form, their status and their prescriber of record."""
