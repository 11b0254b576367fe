"""Monitoring compliance: lab results, waivers, and adverse events (program §6)."""
