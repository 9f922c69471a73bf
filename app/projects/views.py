"""Project pages."""
