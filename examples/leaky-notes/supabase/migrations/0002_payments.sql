-- payments, added later: this one was done right
create table public.payments (
  id bigserial primary key,
  owner uuid not null references public.profiles (id),
  amount_cents integer not null,
  card_last4 text
);

alter table public.payments enable row level security;

create policy "owners read their payments" on public.payments
  for select to authenticated using (auth.uid() = owner);
