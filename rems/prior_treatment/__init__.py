"""Treatment given before this system: prior courses and doses entered from source documents."""
