"""What operators watch: the health report behind /api/v1/health and the /metrics endpoint."""
