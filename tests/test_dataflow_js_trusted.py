"""What a JS request value stops being: a verified token's claims are the signer's, not the
caller's, while a token only decoded still carries the request's labels."""

from __future__ import annotations

from js_support import js_flows

VERIFIED = """\
const jwt = require('jsonwebtoken')
const { jwtVerify } = require('jose')
const { MongoClient } = require('mongodb')
const notes = new MongoClient('mongodb://db').db('app').collection('notes')
module.exports = {
  mine: async (req, res) => {
    const token = req.headers.authorization.split(' ')[1]
    const claims = jwt.verify(token, process.env.KEY, { algorithms: ['HS256'] })
    const a = await notes.find({ $where: "this.owner == '" + claims.sub + "'" }).toArray()
    const { payload } = await jwtVerify(req.cookies.session, process.env.PUBLIC_KEY)
    const b = await notes.find({ $where: "this.team == '" + payload.team + "'" }).toArray()
    const raw = jwt.decode(token)
    const c = await notes.find({ $where: "this.owner == '" + raw.sub + "'" }).toArray()
    res.json([a, b, c])
  },
}
"""
ROUTES = """\
const express = require('express')
const h = require('./h')
const router = express.Router()
router.get('/mine', h.mine)
module.exports = router
"""


def test_verified_claims_are_not_request_input_but_decoded_ones_are() -> None:
    flows = js_flows({"h.js": VERIFIED, "routes.js": ROUTES})
    got = {(f.claim, f.sink_location.line) for f in flows}
    assert ("nosql_injection", 13) in got  # jwt.decode checks no signature
    assert ("nosql_injection", 9) not in got  # jsonwebtoken's verify
    assert ("nosql_injection", 11) not in got  # jose's jwtVerify
