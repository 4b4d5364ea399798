"""supabase_functions."""
