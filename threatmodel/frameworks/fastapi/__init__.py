"""fastapi."""
