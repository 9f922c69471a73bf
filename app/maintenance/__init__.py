"""Maintenance tasks run from the command line: retention of personal data, backup and restore."""
