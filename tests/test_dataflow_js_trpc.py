"""tRPC resolvers: the ``input`` of a procedure's resolver is the client's; its ``ctx``
(session, database client) is the server's."""

from __future__ import annotations

from js_support import js_flows

ROUTER = """\
import { exec } from "child_process";
import { z } from "zod";
import { createTRPCRouter, protectedProcedure, publicProcedure } from "./trpc";

export const postRouter = createTRPCRouter({
  search: publicProcedure
    .input(z.object({ term: z.string() }))
    .query(async ({ ctx, input }) => {
      return ctx.db.$queryRawUnsafe(`SELECT * FROM p WHERE name = '${input.term}'`);
    }),
  thumb: protectedProcedure.input(z.object({ f: z.string() })).mutation((opts) => {
    exec(`convert ${opts.input.f} t.png`);
  }),
  mine: protectedProcedure.query(({ ctx }) => {
    return ctx.db.$queryRawUnsafe(`SELECT * FROM p WHERE owner = '${ctx.session.user.id}'`);
  }),
});
"""


def test_procedure_input_is_request_input() -> None:
    got = {(f.claim, f.sink_location.line) for f in js_flows({"post.ts": ROUTER})}
    assert ("sql_injection", 9) in got  # destructured input
    assert ("command_injection", 12) in got  # opts.input
    # the caller's id from the session is no client input
    assert not any(line == 15 for _, line in got)
