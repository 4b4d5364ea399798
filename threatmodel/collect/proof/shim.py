"""The parts of Supabase a project's migrations and policies expect, on a plain PostgreSQL.

Roles ``anon``, ``authenticated`` and ``service_role`` (which bypasses RLS) and the
``authenticator`` / ``supabase_admin`` / ``supabase_auth_admin`` / ``supabase_storage_admin``
roles migrations grant to; ``auth.uid()``, ``auth.role()``, ``auth.jwt()`` and
``auth.email()`` reading ``request.jwt.claims`` as PostgREST sets it; ``auth.users``;
``storage.buckets`` and ``storage.objects`` (RLS on) with ``storage.foldername``,
``storage.filename`` and ``storage.extension``; an ``extensions`` schema on the search path,
with ``uuid_generate_v4()`` standing in for ``uuid-ossp`` and ``gen_random_bytes()`` for
``pgcrypto`` (the embedded server has neither libuuid nor OpenSSL); the
``supabase_realtime`` publication. Supabase's default privileges are reproduced: ``anon``
and ``authenticated`` get every privilege on tables, sequences and functions created in
``public``, so what protects a table is RLS, as on a real project.
"""

from __future__ import annotations

ROLES_SQL = """
DO $roles$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role', 'authenticator',
      'supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin', 'dashboard_user',
      'pgbouncer', 'supabase_realtime_admin', 'supabase_replication_admin',
      'supabase_read_only_user']
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END
$roles$;
ALTER ROLE service_role BYPASSRLS;
ALTER ROLE supabase_admin BYPASSRLS;
GRANT anon, authenticated, service_role TO authenticator;
"""

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE SCHEMA IF NOT EXISTS storage;
CREATE SCHEMA IF NOT EXISTS realtime;
CREATE SCHEMA IF NOT EXISTS graphql_public;
GRANT USAGE ON SCHEMA public, extensions, auth, storage TO anon, authenticated, service_role;
GRANT ALL ON SCHEMA public TO anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION extensions.uuid_generate_v4() RETURNS uuid
  LANGUAGE sql VOLATILE AS 'SELECT gen_random_uuid()';
-- pgcrypto's most used function in column defaults (the embedded server has no OpenSSL).
CREATE OR REPLACE FUNCTION extensions.gen_random_bytes(n integer) RETURNS bytea
  LANGUAGE sql VOLATILE AS $f$
  SELECT decode(string_agg(lpad(to_hex((random() * 255)::int), 2, '0'), ''), 'hex')
  FROM generate_series(1, n)
$f$;
CREATE PUBLICATION supabase_realtime;

CREATE TABLE auth.users (
  instance_id uuid, id uuid PRIMARY KEY, aud text, role text, email text UNIQUE,
  encrypted_password text, email_confirmed_at timestamptz, invited_at timestamptz,
  confirmation_token text, confirmation_sent_at timestamptz, recovery_token text,
  recovery_sent_at timestamptz, email_change_token_new text, email_change text,
  email_change_sent_at timestamptz, last_sign_in_at timestamptz,
  raw_app_meta_data jsonb DEFAULT '{}'::jsonb, raw_user_meta_data jsonb DEFAULT '{}'::jsonb,
  is_super_admin boolean, created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(), phone text UNIQUE, phone_confirmed_at timestamptz,
  phone_change text, phone_change_token text, phone_change_sent_at timestamptz,
  confirmed_at timestamptz, email_change_token_current text,
  email_change_confirm_status smallint, banned_until timestamptz,
  reauthentication_token text, reauthentication_sent_at timestamptz,
  is_sso_user boolean DEFAULT false, deleted_at timestamptz, is_anonymous boolean DEFAULT false
);
GRANT ALL ON auth.users TO service_role;

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $f$
  SELECT coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$f$;
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $f$
  SELECT nullif(auth.jwt() ->> 'sub', '')::uuid
$f$;
CREATE OR REPLACE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT nullif(auth.jwt() ->> 'role', '')::text
$f$;
CREATE OR REPLACE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT nullif(auth.jwt() ->> 'email', '')::text
$f$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA auth TO anon, authenticated, service_role;

CREATE TABLE storage.buckets (
  id text PRIMARY KEY, name text NOT NULL UNIQUE, owner uuid, owner_id text,
  public boolean DEFAULT false, avif_autodetection boolean DEFAULT false,
  file_size_limit bigint, allowed_mime_types text[], type text,
  created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now()
);
CREATE TABLE storage.objects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bucket_id text REFERENCES storage.buckets (id), name text, owner uuid, owner_id text,
  metadata jsonb, user_metadata jsonb, version text,
  path_tokens text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED,
  created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(),
  last_accessed_at timestamptz DEFAULT now()
);
ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
GRANT ALL ON storage.buckets, storage.objects TO anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION storage.foldername(name text) RETURNS text[]
  LANGUAGE sql IMMUTABLE AS $f$
  SELECT (string_to_array(name, '/'))[1:array_length(string_to_array(name, '/'), 1) - 1]
$f$;
CREATE OR REPLACE FUNCTION storage.filename(name text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $f$
  SELECT (string_to_array(name, '/'))[array_length(string_to_array(name, '/'), 1)]
$f$;
CREATE OR REPLACE FUNCTION storage.extension(name text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $f$
  SELECT reverse(split_part(reverse(storage.filename(name)), '.', 1))
$f$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA storage TO anon, authenticated, service_role;

ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
"""


def database_sql(dbname: str) -> str:
    """Per-database settings: Supabase puts ``extensions`` on every role's search path."""
    return f'ALTER DATABASE "{dbname}" SET search_path = "$user", public, extensions'
