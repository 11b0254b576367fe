"""The notifications outbox: every message the system owes a person, kept and delivered."""
