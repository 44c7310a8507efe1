'use strict'
// The TypeScript interfaces of index.d.ts against the core's document types.
// fixtures/documents.json is read off the Rust serde types (pinned by
// core/src/api.rs); every interface here must have exactly the fields of its
// Rust type, so a field added in Rust and forgotten in the binding fails.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..', '..')
const documents = JSON.parse(fs.readFileSync(path.join(root, 'fixtures', 'documents.json'), 'utf8'))
const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')

/** Every `export interface Name [extends A, B] { field...: ... }` of index.d.ts, fields flattened over `extends`. */
function interfaces(text) {
  const raw = new Map()
  const re = /export interface (\w+)(?: extends ([\w, ]+))? \{\n([\s\S]*?)\n\}/g
  for (const m of text.matchAll(re)) {
    const fields = [...m[3].matchAll(/^ {2}(\w+)\??:/gm)].map((f) => f[1])
    raw.set(m[1], { parents: m[2] ? m[2].split(',').map((s) => s.trim()) : [], fields })
  }
  const flat = (name) => {
    const i = raw.get(name)
    if (!i) return null
    return new Set([...i.parents.flatMap((p) => [...(flat(p) || [])]), ...i.fields])
  }
  return flat
}

// Rust type -> interface name where they differ.
const NAMES = { Sidebar: 'SidebarState' }

test('every document type of the core has its interface with exactly its fields', () => {
  const fieldsOf = interfaces(dts)
  for (const [rust, doc] of Object.entries(documents)) {
    const ts = NAMES[rust] || rust
    const got = fieldsOf(ts)
    assert.ok(got, `index.d.ts has no interface ${ts} (Rust ${rust})`)
    assert.deepEqual([...got].sort(), [...doc.fields].sort(), `${ts} vs Rust ${rust}`)
  }
})

test('the getters are typed with the documents', () => {
  assert.match(dts, /get snapshot\(\): Snapshot/)
  assert.match(dts, /get report\(\): RunReport/)
  assert.match(dts, /reason: StateReason \| null/)
})
