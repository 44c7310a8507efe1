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

test('the governance and agent interfaces have exactly the fields the engine writes', () => {
  const lic = require('..')
  const fieldsOf = interfaces(dts)
  const same = (name, value) => assert.deepEqual([...fieldsOf(name)].sort(), Object.keys(value).sort(), name)
  const olivia = { type: 'user', id: 'u-olivia', roles: ['agent_operator'] }
  const omar = { type: 'user', id: 'u-omar', roles: ['ops_manager'] }
  const at = '2026-11-22T07:00:00Z'
  same('UserActor', olivia)
  const decision = lic.authorize(olivia, 'agent.run')
  same('AuthorizeDecision', decision)
  const p = lic.propose('recommendation', { recommendation_id: 'r-1' }, olivia, at)
  same('Proposal', p)
  const approval = { proposal_id: p.proposal_id, payload_hash: p.payload_hash, approver: omar, decision: 'approve', at, comment: 'ok' }
  same('Approval', approval)
  assert.equal(lic.decide(p, [approval], at).state, 'approved', 'the Approval interface is a valid approval')
  same('Decided', lic.decide(p, [approval], at))
  same('Change', lic.apply(p, [approval], at).change)
  const entry = lic.auditAppend(null, { at, actor: olivia, action: 'agent.run', entity: { type: 'x', id: '1' } })
  same('AuditEntry', entry)
  same('Checkpoint', lic.auditCheckpoint([entry]))
  same('LogReport', lic.auditVerify([entry]))
  same('InclusionProof', lic.auditProve([entry], 1))
  same('ConsistencyProof', lic.auditConsistency([entry], 1))
  const result = lic.runAgent({ agent: 'anomaly_detector', actor: olivia, at, model: () => '{}' })
  same('AgentRunResult', result)
  same('AgentRun', result.run)
  same('AgentActor', result.run.actor)
  const demo = (f) => fs.readFileSync(path.join(root, 'fixtures', 'demo', f))
  const inputs = {
    'bundle.json': demo('bundle.json'),
    ruleset: demo('ruleset.json'),
    catalog: demo('catalog.json'),
    entitlements: demo('entitlements.csv'),
    'contracts/c.txt': 'Contract C-1\n',
  }
  const full = lic.runAgent({ agent: 'inventory_extractor', actor: olivia, at, model: () => 'x', inputs })
  assert.ok(full.run.model_calls.length > 0, JSON.stringify(full.run.steps))
  for (const call of full.run.model_calls) {
    same('ModelCall', call)
    same('ModelRequest', call.request)
  }
})
