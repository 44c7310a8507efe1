'use strict'
// License intelligence through the Node binding (DESIGN Part C): the golden
// vectors of fixtures/golden/insight (each step reconciled here with
// reconcileFiles, chained to the previous run's pack), the demo's AC2 alert,
// the CLI's --json documents and the contract errors (.code, .index).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const lic = require('..')
const { findCli } = require('../test-support/cli.js')

const ROOT = path.join(__dirname, '..', '..')
const DEMO = path.join(ROOT, 'fixtures', 'demo')
const INSIGHT = path.join(ROOT, 'fixtures', 'golden', 'insight')
const POLICY = fs.readFileSync(path.join(ROOT, 'rulesets', 'default', 'policy-v1.json'))

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'))
const cases = fs
  .readdirSync(INSIGHT)
  .filter((name) => fs.existsSync(path.join(INSIGHT, name, 'case.json')))
  .sort()

/** Every step of a case reconciled in order, each chained to the previous run's pack. */
function chain(name) {
  const steps = readJson(path.join(INSIGHT, name, 'steps.json'))
  const history = []
  let pack
  let outcomes = []
  for (const step of steps) {
    const out = lic.reconcileFiles(step, pack ? { previous: pack } : undefined)
    history.push(Buffer.from(out.snapshotJson, 'utf8'))
    pack = out.evidencePack()
    outcomes.push(out)
  }
  return { history, pack, outcomes }
}

function throwsCode(fn, code) {
  let caught
  try {
    fn()
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof Error, `expected an Error with code ${code}, got ${caught}`)
  assert.equal(caught.code, code, caught.message)
  return caught
}

test('at least five insight cases', () => {
  assert.ok(cases.length >= 5, `${cases.length} cases`)
})

for (const name of cases) {
  test(`golden insight ${name}`, () => {
    const { history, pack } = chain(name)
    const a = lic.alerts(history, pack)
    const r = lic.advise(history, pack)
    const e = lic.events(history, pack)
    const got = { alerts: a.alerts, events: e.events, recommendations: r.recommendations }
    assert.deepStrictEqual(got, readJson(path.join(INSIGHT, name, 'expected.json')))
    const defaultHash = lic.policyHash(POLICY)
    for (const doc of [a, r, e]) {
      assert.deepStrictEqual(doc.policy, { hash: defaultHash, id: 'default', version: 1 })
      assert.equal(doc.as_of, JSON.parse(history[history.length - 1]).reconciled_at)
    }
    const seen = new Set([...a.alerts.map((x) => x.type), ...r.recommendations.map((x) => x.type), ...e.events.map((x) => x.event_type)])
    for (const c of readJson(path.join(INSIGHT, name, 'case.json')).covers) assert.ok(seen.has(c), `${name}: ${c}`)
  })
}

test('the demo raises over_deployed for autocad (AC2)', () => {
  const out = lic.reconcile(DEMO)
  const report = lic.alerts([out.snapshotJson], out.evidencePack())
  const over = report.alerts.filter((x) => x.type === 'over_deployed' && x.subject.sku === 'autocad' && !x.subject.pool)
  assert.equal(over.length, 1)
  const [alert] = over
  assert.equal(alert.severity, 'critical')
  assert.ok(alert.facts.consumed > alert.facts.entitled)
  assert.equal(alert.facts.remaining, alert.facts.entitled - alert.facts.consumed)
  assert.deepStrictEqual(alert.evidence.snapshots, [out.snapshotHash])
  assert.equal(report.alerts[0].severity, 'critical')
})

test('the documents are the CLI --json documents', (t) => {
  const cli = findCli()
  if (!cli || !fs.existsSync(cli)) {
    t.skip('no eucora-license binary: cargo build -p eucora-license-cli or set EUCORA_LICENSE_CLI')
    return
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eucora-insight-'))
  try {
    execFileSync(cli, ['reconcile', DEMO, '--out', path.join(dir, 'run')], { stdio: 'pipe' })
    const snap = fs.readFileSync(path.join(dir, 'run', 'snapshot.json'))
    const pack = fs.readFileSync(path.join(dir, 'run', 'evidence.tar'))
    const run = (cmd) => JSON.parse(execFileSync(cli, [cmd, path.join(dir, 'run'), '--json'], { encoding: 'utf8' }))
    assert.deepStrictEqual(lic.alerts([snap], pack), run('alerts'))
    assert.deepStrictEqual(lic.advise([snap], pack), run('advise'))
    assert.deepStrictEqual(lic.events([snap], pack), run('events'))
    assert.deepStrictEqual(lic.complianceCheck(snap, pack), run('compliance'))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('complianceCheck: one row per SKU, or the one asked for', () => {
  const out = lic.reconcile(DEMO)
  const pack = out.evidencePack()
  const { rows } = lic.complianceCheck(out.snapshotJson, pack)
  assert.deepStrictEqual(
    rows.map((r) => r.software_name !== undefined),
    rows.map(() => true)
  )
  const over = rows.filter((r) => r.compliance_status === 'over_deployed')
  assert.ok(over.length >= 1 && over.every((r) => r.usage_count > r.license_count))
  assert.deepStrictEqual(lic.complianceCheck(out.snapshotJson, pack, { licenseId: rows[0].license_id }).rows, [rows[0]])
  assert.deepStrictEqual(lic.complianceCheck(out.snapshotJson, pack, { licenseId: '00000000-0000-0000-0000-000000000000' }).rows, [])
})

test('events: organizationUuid and renewedBy', () => {
  const { history, pack } = chain('insight-contracts')
  const org = '5f0c6c7e-1b7e-4c2a-9a53-0c1d2e3f4a5b'
  const { events } = lic.events(history, pack, { organizationUuid: org.toUpperCase(), renewedBy: 'user-7' })
  assert.ok(events.length > 0)
  for (const e of events) {
    assert.equal(e.organization_id, org)
    if (e.event_type === 'it_license_renewed') assert.equal(e.renewed_by, 'user-7')
  }
  throwsCode(() => lic.events(history, pack, { organizationUuid: 'not-a-uuid' }), 'invalid_input')
})

test('a policy changes the alerts and is reported', () => {
  const out = lic.reconcile(DEMO)
  const pack = out.evidencePack()
  const doc = JSON.parse(POLICY)
  doc.alerts.utilization_warning_percent = 0
  const loose = lic.alerts([out.snapshotJson], pack, { policy: doc })
  assert.equal(loose.policy.hash, lic.policyHash(doc))
  assert.notEqual(loose.policy.hash, lic.policyHash(POLICY))
  const high = (r) => r.alerts.filter((x) => x.type === 'utilization_high').length
  assert.ok(high(loose) > high(lic.alerts([out.snapshotJson], pack)))
  assert.equal(lic.validatePolicy(doc).hash, loose.policy.hash)
})

test('contract errors carry .code and .index', () => {
  const { history, pack, outcomes } = chain('insight-trends')
  assert.ok(history.length >= 3)
  const n = history.length
  let e = throwsCode(() => lic.alerts([history[1], history[0], ...history.slice(2)], pack), 'chain_broken')
  assert.equal(e.index, 2)
  e = throwsCode(() => lic.advise([history[0], ...history.slice(2)], pack), 'chain_broken')
  assert.equal(e.index, 2)
  const older = outcomes[n - 2].evidencePack()
  e = throwsCode(() => lic.alerts(history, older), 'pack_mismatch')
  assert.equal(e.index, n)
  e = throwsCode(() => lic.events(history, Buffer.from('not a tar')), 'pack_invalid')
  assert.equal(e.index, n)
  const bad = JSON.parse(POLICY)
  bad.alerts.spike_percnt = 1
  e = throwsCode(() => lic.alerts(history, pack, { policy: bad }), 'invalid_policy')
  assert.equal(e.index, null)
  assert.match(e.message, /\$\.alerts\.spike_percnt/)
  throwsCode(() => lic.policyHash(bad), 'invalid_policy')
  throwsCode(() => lic.complianceCheck(history[n - 1], older), 'pack_mismatch')
})

test('wrong argument types are invalid_argument', () => {
  const { history, pack } = chain('insight-seats')
  throwsCode(() => lic.alerts(history[0], pack), 'invalid_argument')
  throwsCode(() => lic.alerts([42], pack), 'invalid_argument')
  throwsCode(() => lic.alerts(history, undefined), 'invalid_argument')
  throwsCode(() => lic.alerts(history, pack, { policy: 7 }), 'invalid_argument')
  throwsCode(() => lic.events(history, pack, { renewedBy: 7 }), 'invalid_argument')
  throwsCode(() => lic.alerts([], pack), 'invalid_input')
})
