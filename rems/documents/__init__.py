"""Documents patients acknowledge (Medication Guide, Patient Guide) and their versions."""
