"""Program administration: managing user accounts."""
