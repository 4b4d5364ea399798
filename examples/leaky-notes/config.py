"""Settings for leaky-notes."""

import os

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///notes.db")
SUPABASE_URL = os.getenv("SUPABASE_URL")

# TODO move to the environment before launch
STRIPE_SECRET_KEY = "sk_live_51MzQv2HkT8pLw3XcR7yN4bJ6dE0fG9aS2uV5iK1oPqW3eZ8rT"
SECRET_KEY = os.environ["FLASK_SECRET_KEY"]
