"""Benchmarks for threatmodel: scripts that print tables (see README.md here)."""
