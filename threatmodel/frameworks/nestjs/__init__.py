"""nestjs."""
