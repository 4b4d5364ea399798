// Parse Mermaid diagrams with the real `mermaid` package under Node (jsdom as the DOM).
// Usage: node mermaid_check.mjs < diagram.mmd   (NODE_PATH-free: run with cwd or
// MERMAID_CHECK_MODULES pointing at a folder with node_modules/{mermaid,jsdom}).
// Prints one JSON line: {"ok": true, "type": "flowchart-v2", "vertices": N} or
// {"ok": false, "error": "..."}; exits 0 either way unless the packages are missing (3).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const base = process.env.MERMAID_CHECK_MODULES || process.cwd();
const require = createRequire(path.join(base, 'package.json'));
let jsdomPath, mermaidPath;
try {
  jsdomPath = require.resolve('jsdom');
  mermaidPath = require.resolve('mermaid');
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: `packages missing under ${base}: ${e.message}` }));
  process.exit(3);
}
const { JSDOM } = await import(pathToFileURL(jsdomPath).href);
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import(pathToFileURL(mermaidPath).href);
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

const text = readFileSync(0, 'utf8');
try {
  const parsed = await mermaid.parse(text);
  // Build the diagram's database too, so node and edge counts prove the parse was real.
  const api = await mermaid.mermaidAPI.getDiagramFromText(text);
  const db = api.db;
  const vertices = db.getVertices ? Object.keys(Object.fromEntries(db.getVertices())).length : -1;
  const edges = db.getEdges ? db.getEdges().length : -1;
  const subgraphs = db.getSubGraphs ? db.getSubGraphs().length : -1;
  const labels = db.getVertices ? [...db.getVertices().values()].map((v) => v.text) : [];
  console.log(JSON.stringify({ ok: true, type: parsed.diagramType, vertices, edges, subgraphs, labels }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e.message || e).slice(0, 2000) }));
}
