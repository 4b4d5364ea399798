"""django."""
