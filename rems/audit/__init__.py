"""The append-only, hash-chained audit trail: recording events and verifying the chain."""
