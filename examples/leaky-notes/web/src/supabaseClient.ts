import { createClient } from "@supabase/supabase-js";

// The service role key bypasses every RLS policy; Vite inlines VITE_* into the bundle.
export const supabase = createClient(
  import.meta.env.VITE_SUPABASE_URL,
  import.meta.env.VITE_SUPABASE_SERVICE_ROLE_KEY,
);
