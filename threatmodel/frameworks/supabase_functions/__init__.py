"""Supabase Edge Functions: routes.py (one route per function, its own caller checks)."""

from threatmodel.frameworks.base import Declared

FRAMEWORK = Declared(
    name="supabase_functions",
    language="javascript",
    routes="threatmodel.frameworks.supabase_functions.routes",
    collector="supabase_functions",
    guards=("threatmodel.frameworks.supabase_functions.routes",),  # auth.getUser() checks
    packages=("@supabase/supabase-js",),
)
