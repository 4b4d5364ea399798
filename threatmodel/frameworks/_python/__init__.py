"""Helpers every Python web framework shares: guard analysis, name resolution, settings."""
