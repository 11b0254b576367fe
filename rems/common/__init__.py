"""Small helpers shared by every domain: time, pagination, CSV."""
