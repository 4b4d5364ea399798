"""GraphQL resolvers in JS: a field's arguments (the resolver's second parameter, in a map
with a ``Query`` or ``Mutation`` type) are the client's input, typed by the schema."""

from __future__ import annotations

from js_support import js_flows

SCHEMA = """\
const fsp = require('fs').promises
const { MongoClient } = require('mongodb')
const notes = new MongoClient('mongodb://db').db('app').collection('notes')
const resolvers = {
  Query: {
    byName: async (parent, args, context) => notes.find({ name: args.name }).toArray(),
    search: async (parent, args) => notes.find({ $where: "this.n == '" + args.q + "'" }),
  },
  Mutation: {
    async save(parent, { path, body }, context) {
      await fsp.writeFile('/data/' + path, body)
      return path
    },
  },
  Note: {
    owner: (note, args) => fsp.readFile('/owners/' + args.file),
  },
}
const helpers = {
  Other: { read: (a, b) => fsp.readFile(b) },
}
module.exports = { resolvers, helpers }
"""


def test_resolver_arguments_are_request_input() -> None:
    got = {(f.claim, f.sink_location.line) for f in js_flows({"schema.js": SCHEMA})}
    assert ("nosql_injection", 7) in got  # a string built into $where
    assert ("path_traversal", 11) in got  # a destructured argument, through fs.promises
    assert ("path_traversal", 16) in got  # a type's field resolver takes arguments too
    # a typed argument under a key is no operator object: no GraphQL name starts with $
    assert ("nosql_injection", 6) not in got
    # an object with no Query or Mutation key is no resolver map
    assert ("path_traversal", 20) not in got
