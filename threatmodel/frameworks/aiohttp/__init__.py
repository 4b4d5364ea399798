"""aiohttp."""
