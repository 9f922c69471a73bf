"""Housing pages."""
