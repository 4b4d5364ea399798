-- leaky-notes schema
create table public.profiles (
  id uuid primary key references auth.users (id),
  email text not null,
  role text not null default 'user'
);

create table public.notes (
  id bigserial primary key,
  owner uuid not null references public.profiles (id),
  body text not null,
  created_at timestamptz default now()
);

alter table public.notes enable row level security;

create policy "notes are readable" on public.notes
  for select using (true);

create policy "owners write their notes" on public.notes
  for insert to authenticated with check (auth.uid() = owner);

insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true);
