"""Non-compliance cases: deviations answered for by the responsible party (program §5)."""
