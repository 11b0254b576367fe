"""Adverse events: reported per patient, reviewed by the program when serious (program §6)."""
