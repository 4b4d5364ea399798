"""nextjs."""
