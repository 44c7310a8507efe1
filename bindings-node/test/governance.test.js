'use strict'
// Governance through the Node binding (DESIGN Part D): authorize's reasons
// (D1), proposals and decisions (D2), the audit chain and its RFC 9162
// proofs (D3), coded errors, and equality with the CLI's documents (D5).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')
const lic = require('..')
const { findCli } = require('../test-support/cli.js')

const ROOT = path.join(__dirname, '..', '..')
const POLICY = JSON.parse(fs.readFileSync(path.join(ROOT, 'rulesets', 'default', 'policy-v1.json'), 'utf8'))

const user = (id, ...roles) => ({ type: 'user', id, roles })
const agent = (name, onBehalfOf) => ({ type: 'agent', agent: name, on_behalf_of: onBehalfOf })
const ADMIN = user('u-al', 'license_admin')
const AUDITOR = user('u-au', 'license_auditor')
const OPS = user('u-ops', 'ops_manager')
const OPS2 = user('u-ops2', 'ops_manager')
const OPERATOR = user('u-olivia', 'agent_operator')
const VIEWER = user('u-vic', 'viewer')

/** Assert `fn` throws an Error whose `.code` is `code`. */
function throwsCode(fn, code) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error)
    assert.equal(e.code, code, e.message)
    return true
  })
}

test('authorize: every D1 reason, each from its own rule', () => {
  const reason = (actor, action, options) => lic.authorize(actor, action, options).reason
  assert.equal(reason(ADMIN, 'catalog.write'), 'allowed')
  assert.equal(lic.authorize(ADMIN, 'catalog.write').allowed, true)
  assert.equal(reason(VIEWER, 'catalog.write'), 'role_lacks_action')
  // The default policy lets truth_builder do reconcile.run only.
  assert.equal(reason(agent('truth_builder', OPERATOR), 'reconcile.run'), 'allowed')
  assert.equal(reason(agent('truth_builder', OPERATOR), 'import.upload'), 'agent_not_permitted')
  // The delegator must hold the action and agent.run.
  assert.equal(reason(agent('truth_builder', ADMIN), 'reconcile.run'), 'delegator_lacks_action')
  assert.equal(reason(agent('anomaly_detector', OPS), 'view.alerts'), 'delegator_lacks_action')
  // No agent ever approves, whatever the policy says.
  const generous = structuredClone(POLICY)
  generous.agents.truth_builder.push('entitlement.approve')
  assert.equal(reason(agent('truth_builder', OPS), 'entitlement.approve', { policy: generous }), 'approval_needs_human')
  assert.equal(reason(user('u-x', 'license_admin', 'license_auditor'), 'view.sidebar'), 'conflicting_roles')
  assert.equal(
    reason(agent('truth_builder', user('u-x', 'license_admin', 'license_auditor', 'agent_operator')), 'reconcile.run'),
    'conflicting_roles'
  )
  assert.equal(reason(agent('truth_builder', agent('anomaly_detector', OPERATOR)), 'reconcile.run'), 'agent_chain')
  // Precedence: approval_needs_human before agent_chain.
  assert.equal(reason(agent('truth_builder', agent('anomaly_detector', OPERATOR)), 'mapping.approve'), 'approval_needs_human')
  // The decision is D1's whole decision, the actor as given.
  assert.deepStrictEqual(lic.authorize(VIEWER, 'view.sidebar'), {
    allowed: true,
    action: 'view.sidebar',
    actor: VIEWER,
    reason: 'allowed',
  })
  // Text and Buffers are accepted as well as objects; a policy can narrow a role.
  assert.equal(lic.authorize(JSON.stringify(VIEWER), 'view.sidebar').reason, 'allowed')
  const narrow = structuredClone(POLICY)
  narrow.access.roles.viewer = ['view.sidebar']
  assert.equal(reason(VIEWER, 'view.dashboard', { policy: Buffer.from(JSON.stringify(narrow)) }), 'role_lacks_action')
  assert.equal(reason(VIEWER, 'view.dashboard'), 'allowed')
})

test('authorize: unknown names and malformed documents are coded errors, never a "no"', () => {
  throwsCode(() => lic.authorize(VIEWER, 'view.everything'), 'unknown_action')
  throwsCode(() => lic.authorize(user('u', 'superuser'), 'view.sidebar'), 'unknown_role')
  throwsCode(() => lic.authorize(agent('oracle', OPERATOR), 'view.sidebar'), 'unknown_agent')
  throwsCode(() => lic.authorize({ type: 'robot' }, 'view.sidebar'), 'invalid_actor')
  const bad = structuredClone(POLICY)
  bad.approvals.recommendation.quorum = 0
  assert.throws(
    () => lic.authorize(VIEWER, 'view.sidebar', { policy: bad }),
    (e) => e.code === 'invalid_policy' && e.path === '$.approvals.recommendation.quorum'
  )
  throwsCode(() => lic.authorize(VIEWER, 42), 'invalid_argument')
  throwsCode(() => lic.authorize(undefined, 'view.sidebar'), 'invalid_argument')
  throwsCode(() => lic.authorize('{not json', 'view.sidebar'), 'invalid_argument')
  throwsCode(() => lic.authorize(VIEWER, 'view.sidebar', 'options'), 'invalid_argument')
})

const AT = '2026-11-22T07:00:00Z'
const PAYLOAD = { match: 'exact', field: 'product', value: 'Autodesk Revit 2026', sku: 'autocad' }

function mappingProposal(proposer = OPERATOR, options) {
  return lic.propose('mapping.sku', PAYLOAD, proposer, AT, options)
}

function approval(p, approver, decision = 'approve', at = '2026-11-22T09:00:00Z') {
  return { proposal_id: p.proposal_id, payload_hash: p.payload_hash, approver, decision, at }
}

test('propose binds the payload, the policy and the expiry; a proposer without the action is refused', () => {
  const p = mappingProposal(OPERATOR, { correlationId: 'corr-1', evidence: ['sha256:' + '0'.repeat(64)] })
  assert.equal(p.kind, 'mapping.sku')
  assert.equal(p.payload_hash, lic.payloadHash(PAYLOAD))
  assert.equal(p.policy_hash, lic.policyHash(POLICY))
  assert.equal(p.created_at, AT)
  assert.equal(p.expires_at, '2026-11-29T07:00:00Z')
  assert.equal(p.correlation_id, 'corr-1')
  assert.deepStrictEqual(p.proposer, OPERATOR)
  assert.match(p.proposal_id, /^sha256:[0-9a-f]{64}$/)
  // The same proposal from the same inputs: the id is a hash, not a counter.
  assert.equal(mappingProposal().proposal_id, p.proposal_id)
  assert.notEqual(lic.payloadHash({ ...PAYLOAD, sku: 'acrobat-pro' }), p.payload_hash)
  throwsCode(() => mappingProposal(VIEWER), 'role_lacks_action')
  throwsCode(() => lic.propose('mapping.everything', PAYLOAD, OPERATOR, AT), 'unknown_kind')
  throwsCode(() => lic.propose('mapping.sku', PAYLOAD, OPERATOR, 'yesterday'), 'invalid_instant')
  throwsCode(() => lic.payloadHash([1, 2]), 'invalid_payload')
})

test('decide: pending, approved, rejected, expired', () => {
  const p = mappingProposal()
  assert.deepStrictEqual(lic.decide(p, [], '2026-11-22T08:00:00Z'), { state: 'pending', counted: [], refused: [] })
  assert.deepStrictEqual(lic.decide(p, [approval(p, OPS)], '2026-11-22T10:00:00Z'), {
    state: 'approved',
    counted: ['u-ops'],
    refused: [],
  })
  assert.equal(lic.decide(p, [approval(p, OPS), approval(p, OPS2, 'reject')], '2026-11-22T10:00:00Z').state, 'rejected')
  assert.equal(lic.decide(p, [], '2026-11-29T07:00:00Z').state, 'expired')
  assert.equal(lic.decide(p, [], '2026-11-29T06:59:59Z').state, 'pending')
})

test('decide: every approval that does not count says why', () => {
  const p = mappingProposal()
  const changed = { ...approval(p, OPS), payload_hash: lic.payloadHash({ ...PAYLOAD, sku: 'acrobat-pro' }) }
  const approvals = [
    { ...approval(p, OPS), proposal_id: 'sha256:' + '1'.repeat(64) },
    changed,
    approval(p, agent('optimization_advisor', OPS)),
    approval(p, user('u-c', 'ops_manager', 'license_admin', 'license_auditor')),
    approval(p, VIEWER),
    approval(p, user('u-olivia', 'ops_manager')),
    approval(p, OPS, 'approve', '2026-11-29T07:00:00Z'),
    approval(p, OPS, 'approve', '2026-11-23T00:00:00Z'),
    approval(p, OPS),
    approval(p, OPS),
  ]
  const d = lic.decide(p, approvals, '2026-11-22T10:00:00Z')
  assert.equal(d.state, 'approved')
  assert.deepStrictEqual(d.counted, ['u-ops'])
  assert.deepStrictEqual(
    d.refused.map((r) => [r.index, r.reason]),
    [
      [0, 'unknown_proposal'],
      [1, 'payload_changed'],
      [2, 'approver_not_human'],
      [3, 'conflicting_roles'],
      [4, 'approver_lacks_role'],
      [5, 'self_approval'],
      [6, 'approval_after_expiry'],
      [7, 'approval_out_of_time'],
      [9, 'duplicate_approver'],
    ]
  )
  assert.equal(d.refused[4].approver, 'u-vic', 'the approver named by id')
  // An agent's proposal cannot be approved by the user it acted for.
  const byAgent = lic.propose('mapping.sku', PAYLOAD, agent('consumption_discovery', user('u-both', 'agent_operator', 'ops_manager')), AT)
  assert.equal(lic.decide(byAgent, [approval(byAgent, user('u-both', 'ops_manager'))], AT).refused[0].reason, 'self_approval')
})

test('decide and apply: the proposal\'s own policy, never applied twice', () => {
  const p = mappingProposal()
  const other = structuredClone(POLICY)
  other.approvals['mapping.sku'].quorum = 2
  throwsCode(() => lic.decide(p, [approval(p, OPS)], AT, { policy: other }), 'policy_mismatch')
  throwsCode(() => lic.decide({ ...p, kind: 'nonsense' }, [], AT), 'invalid_proposal')
  throwsCode(() => lic.decide(p, [{ approver: OPS }], AT), 'invalid_approval')
  throwsCode(() => lic.decide(p, [], 'soon'), 'invalid_instant')
  const ok = [approval(p, OPS)]
  assert.deepStrictEqual(lic.apply(p, ok, '2026-11-22T10:00:00Z'), {
    change: { kind: 'mapping.sku', proposal_id: p.proposal_id, payload: PAYLOAD },
  })
  throwsCode(() => lic.apply(p, ok, '2026-11-22T10:00:00Z', { applied: [p.proposal_id] }), 'already_applied')
  throwsCode(() => lic.apply(p, [], '2026-11-22T10:00:00Z'), 'pending')
  throwsCode(() => lic.apply(p, [approval(p, OPS, 'reject')], '2026-11-22T10:00:00Z'), 'rejected')
  throwsCode(() => lic.apply(p, ok, '2026-11-22T10:00:00Z', { policy: other }), 'policy_mismatch')
})

/** A log of `n` entries built with auditAppend. */
function buildLog(n) {
  const log = []
  for (let i = 1; i <= n; i++) {
    const actor = i % 3 === 0 ? agent('truth_builder', OPERATOR) : [ADMIN, OPS][i % 2]
    const entry = {
      at: `2026-11-${String(1 + (i % 28)).padStart(2, '0')}T0${i % 10}:00:00+01:00`,
      actor,
      action: ['import.upload', 'entitlement.approve', 'reconcile.run'][i % 3],
      entity: { type: 'import_job', id: `job-${i}` },
      correlation_id: `corr-${i}`,
      evidence: [`sha256:${String(i % 10).repeat(64)}`],
      details: { rows: i },
    }
    log.push(lic.auditAppend(log.at(-1) ?? null, entry))
  }
  return log
}

const jsonl = (entries) => entries.map((e) => lic.canonicalize(JSON.stringify(e)) + '\n').join('')

test('auditAppend chains entries; auditVerify accepts the log as objects, lines or JSONL', () => {
  const log = buildLog(12)
  assert.deepStrictEqual(
    log.map((e) => e.seq),
    [...Array(12).keys()].map((i) => i + 1)
  )
  assert.equal(log[0].prev_hash, null)
  assert.equal(log[0].at, '2026-11-02T00:00:00Z', 'normalised to UTC')
  for (let i = 1; i < log.length; i++) assert.equal(log[i].prev_hash, log[i - 1].entry_hash)
  const ok = { ok: true, size: 12, failure: null }
  assert.deepStrictEqual(lic.auditVerify(log), ok)
  assert.deepStrictEqual(lic.auditVerify(jsonl(log)), ok)
  assert.deepStrictEqual(lic.auditVerify(Buffer.from('\n' + jsonl(log) + '\n\n')), ok, 'blank lines ignored')
  assert.deepStrictEqual(lic.auditVerify(jsonl(log).trim().split('\n')), ok)
  assert.deepStrictEqual(lic.auditVerify([]), { ok: true, size: 0, failure: null })
  throwsCode(() => lic.auditAppend(null, { at: AT, actor: ADMIN, action: 'import.upload', entity: { type: 'x', id: '1' }, details: { token: 'abc' } }), 'invalid_entry')
  throwsCode(() => lic.auditVerify(42), 'invalid_argument')
})

test('auditVerify names the first bad entry: every field edit, deletion, insertion and swap', () => {
  const log = buildLog(20)
  const first = (entries) => lic.auditVerify(entries).failure
  for (let i = 0; i < log.length; i++) {
    for (const key of Object.keys(log[i])) {
      const tampered = structuredClone(log)
      const v = tampered[i][key]
      tampered[i][key] = typeof v === 'number' ? v + 1 : typeof v === 'string' ? v + 'x' : v === null ? 'x' : null
      const f = first(tampered)
      assert.ok(f, `edit of ${key} at ${i + 1} undetected`)
      assert.equal(f.seq, i + 1, `edit of ${key} at ${i + 1} named at ${f.seq}`)
    }
  }
  for (let i = 0; i < log.length - 1; i++) {
    assert.deepStrictEqual(first(log.toSpliced(i, 1)), { code: 'seq_gap', seq: i + 1 }, `delete ${i + 1}`)
    const swapped = log.toSpliced(i, 2, log[i + 1], log[i])
    assert.equal(first(swapped).seq, i + 1, `swap ${i + 1}`)
    const inserted = log.toSpliced(i + 1, 0, log[i])
    assert.equal(first(inserted).seq, i + 2, `insert after ${i + 1}`)
  }
  // A line that is not JSON is named by its position.
  const lines = jsonl(log).split('\n')
  lines[4] = '{"seq": 5'
  assert.deepStrictEqual(first(lines.join('\n')), { code: 'entry_hash_mismatch', seq: 5 })
})

test('a checkpoint kept outside the log reveals a cut tail', () => {
  const log = buildLog(10)
  const cp = lic.auditCheckpoint(log)
  assert.equal(cp.size, 10)
  assert.equal(cp.head_hash, log[9].entry_hash)
  assert.deepStrictEqual(lic.auditVerify(log, cp), { ok: true, size: 10, failure: null })
  assert.deepStrictEqual(lic.auditVerify(log.slice(0, 7), cp), { ok: false, size: 7, failure: { code: 'checkpoint_mismatch', seq: 10 } })
  assert.equal(lic.auditVerify(log.slice(0, 7)).ok, true, 'without a checkpoint a cut tail is invisible')
  assert.deepStrictEqual(lic.auditVerify(log, lic.auditCheckpoint(log.slice(0, 4))).ok, true, 'the log grew from the checkpoint')
  assert.deepStrictEqual(lic.auditCheckpoint([]), {
    size: 0,
    root: 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    head_hash: null,
  })
  throwsCode(() => lic.auditVerify(log, { size: 1 }), 'invalid_checkpoint')
  throwsCode(() => lic.auditCheckpoint(log.toSpliced(3, 1)), 'seq_gap')
  const edited = structuredClone(log)
  edited[2].details.rows = 0
  throwsCode(() => lic.auditCheckpoint(edited), 'entry_hash_mismatch')
})

/** Every single-bit corruption of the hex digests of a proof. */
function* corruptions(proof) {
  const flips = (s) => {
    const out = []
    const hex = s.slice('sha256:'.length)
    for (let i = 0; i < hex.length; i++) {
      for (const bit of [1, 2, 4, 8]) {
        const c = (parseInt(hex[i], 16) ^ bit).toString(16)
        out.push('sha256:' + hex.slice(0, i) + c + hex.slice(i + 1))
      }
    }
    return out
  }
  for (const key of ['entry_hash', 'new_root']) {
    if (proof[key]) for (const v of flips(proof[key])) yield { ...proof, [key]: v }
  }
  for (let j = 0; j < proof.path.length; j++) {
    for (const v of flips(proof.path[j])) yield { ...proof, path: proof.path.with(j, v) }
  }
}

test('inclusion proofs verify against the checkpoint and every single-bit corruption is rejected', () => {
  const log = buildLog(13)
  const cp = lic.auditCheckpoint(log)
  for (let seq = 1; seq <= 13; seq++) {
    const proof = lic.auditProve(log, seq)
    assert.equal(proof.kind, 'inclusion')
    assert.equal(proof.entry_hash, log[seq - 1].entry_hash)
    assert.deepStrictEqual(lic.auditVerifyProof(proof, cp), {
      ok: true,
      kind: 'inclusion',
      seq,
      entry_hash: proof.entry_hash,
      tree_size: 13,
      root: cp.root,
    })
    for (const bad of corruptions(proof)) assert.equal(lic.auditVerifyProof(bad, cp).ok, false)
    assert.deepStrictEqual(lic.auditVerifyProof({ ...proof, seq: seq === 13 ? 1 : seq + 1 }, cp), { ok: false, reason: 'root_mismatch' })
  }
  const proof = lic.auditProve(log, 5)
  assert.deepStrictEqual(lic.auditVerifyProof(proof, lic.auditCheckpoint(log.slice(0, 12))), { ok: false, reason: 'size_mismatch' })
  assert.deepStrictEqual(lic.auditVerifyProof({ ...proof, seq: 14, tree_size: 13 }, cp), { ok: false, reason: 'out_of_range' })
  assert.deepStrictEqual(lic.auditVerifyProof({ ...proof, extra: 1 }, cp), { ok: false, reason: 'malformed_proof' })
  assert.deepStrictEqual(lic.auditVerifyProof('not json', cp), { ok: false, reason: 'malformed_proof' })
  assert.deepStrictEqual(lic.auditVerifyProof(JSON.stringify(proof), JSON.stringify(cp)).ok, true)
  throwsCode(() => lic.auditProve(log, 0), 'out_of_range')
  throwsCode(() => lic.auditProve(log, 14), 'out_of_range')
  throwsCode(() => lic.auditProve(log, 1.5), 'invalid_argument')
})

test('consistency proofs: the log only grew since the auditor\'s checkpoint', () => {
  const log = buildLog(11)
  for (let old = 1; old <= 11; old++) {
    const held = lic.auditCheckpoint(log.slice(0, old))
    const proof = lic.auditConsistency(log, old)
    assert.equal(proof.new_root, lic.auditCheckpoint(log).root)
    assert.equal(proof.path.length === 0, old === 11, 'from n to n the path is empty')
    assert.deepStrictEqual(lic.auditVerifyProof(proof, held), {
      ok: true,
      kind: 'consistency',
      old_size: old,
      old_root: held.root,
      new_size: 11,
      new_root: proof.new_root,
    })
    for (const bad of corruptions(proof)) assert.equal(lic.auditVerifyProof(bad, held).ok, false)
  }
  // A rewritten history is not consistent with the checkpoint held.
  const held = lic.auditCheckpoint(log.slice(0, 4))
  const rewritten = buildLog(11).map((e) => e)
  const forged = [lic.auditAppend(null, { at: AT, actor: ADMIN, action: 'import.upload', entity: { type: 'x', id: 'forged' } })]
  for (const e of rewritten.slice(1)) {
    const { seq: _s, prev_hash: _p, entry_hash: _h, ...body } = e
    forged.push(lic.auditAppend(forged.at(-1), body))
  }
  assert.equal(lic.auditVerify(forged).ok, true)
  assert.deepStrictEqual(lic.auditVerifyProof(lic.auditConsistency(forged, 4), held), { ok: false, reason: 'inconsistent' })
  throwsCode(() => lic.auditConsistency(log, 0), 'out_of_range')
  throwsCode(() => lic.auditConsistency(log, 12), 'out_of_range')
})

test('the results are the CLI\'s documents', (t) => {
  const cli = findCli()
  if (!cli || !fs.existsSync(cli)) {
    t.skip('no eucora-license binary: cargo build -p eucora-license-cli or set EUCORA_LICENSE_CLI')
    return
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eucora-gov-'))
  const file = (name, doc) => {
    const p = path.join(dir, name)
    fs.writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc))
    return p
  }
  const run = (args, status = 0) => {
    const r = spawnSync(cli, args, { encoding: 'utf8' })
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stdout}${r.stderr}`)
    return JSON.parse(r.stdout)
  }
  try {
    for (const [actor, action] of [
      [ADMIN, 'catalog.write'],
      [VIEWER, 'catalog.write'],
      [agent('truth_builder', ADMIN), 'reconcile.run'],
      [agent('truth_builder', OPERATOR), 'entitlement.approve'],
    ]) {
      const { actor: _a, ...node } = lic.authorize(actor, action)
      assert.deepStrictEqual(node, run(['authorize', '--actor', file('actor.json', actor), '--action', action]))
    }
    const p = mappingProposal()
    assert.deepStrictEqual(
      p,
      run(['propose', '--kind', 'mapping.sku', '--payload', file('payload.json', PAYLOAD), '--actor', file('op.json', OPERATOR), '--at', AT])
    )
    const approvals = [approval(p, OPS), approval(p, VIEWER), approval(p, OPERATOR)]
    assert.deepStrictEqual(
      lic.decide(p, approvals, '2026-11-22T10:00:00Z'),
      run(['decide', '--proposal', file('p.json', p), '--approvals', file('a.json', approvals), '--now', '2026-11-22T10:00:00Z'])
    )
    const log = buildLog(9)
    const logFile = file('LOG.jsonl', jsonl(log))
    const cp = lic.auditCheckpoint(log)
    assert.deepStrictEqual(cp, run(['audit', 'checkpoint', logFile]))
    assert.deepStrictEqual(lic.auditVerify(log), run(['audit', 'verify', logFile]))
    const tampered = structuredClone(log)
    tampered[6].details.rows = 0
    assert.deepStrictEqual(lic.auditVerify(tampered), run(['audit', 'verify', file('bad.jsonl', jsonl(tampered))], 2))
    const cut = file('cut.jsonl', jsonl(log.slice(0, 5)))
    assert.deepStrictEqual(lic.auditVerify(log.slice(0, 5), cp), run(['audit', 'verify', cut, '--checkpoint', file('cp.json', cp)], 2))
    const inclusion = lic.auditProve(log, 4)
    assert.deepStrictEqual(inclusion, run(['audit', 'prove', logFile, '--seq', '4']))
    const consistency = lic.auditConsistency(log, 3)
    assert.deepStrictEqual(consistency, run(['audit', 'consistency', logFile, '--old-size', '3']))
    assert.deepStrictEqual(lic.auditVerifyProof(inclusion, cp), run(['audit', 'verify-proof', file('i.json', inclusion), '--checkpoint', file('cp.json', cp)]))
    const old = lic.auditCheckpoint(log.slice(0, 3))
    assert.deepStrictEqual(
      lic.auditVerifyProof(consistency, old),
      run(['audit', 'verify-proof', file('c.json', consistency), '--checkpoint', file('old.json', old)])
    )
    assert.deepStrictEqual(
      lic.auditVerifyProof(consistency, cp),
      run(['audit', 'verify-proof', file('c.json', consistency), '--checkpoint', file('cp.json', cp)], 2)
    )
    // Appending through the CLI and through the binding gives the same line.
    const body = { at: AT, actor: OPS, action: 'entitlement.approve', entity: { type: 'proposal', id: p.proposal_id } }
    const appended = run(['audit', 'append', logFile, '--entry', file('e.json', body)])
    assert.deepStrictEqual(appended, lic.auditAppend(log.at(-1), body))
    assert.equal(execFileSync(cli, ['audit', 'verify', logFile], { encoding: 'utf8' }).trim(), '{"failure":null,"ok":true,"size":10}')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
