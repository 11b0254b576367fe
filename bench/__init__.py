"""Benchmarks for the REMS app under gunicorn, run with `python -m bench` from the repo root."""
