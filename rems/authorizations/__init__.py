"""Dispensing authorizations: the gate a pharmacy passes before it dispenses."""
