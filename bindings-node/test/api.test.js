'use strict'
// The JavaScript API beyond the golden vectors: argument checking, coded
// errors, the Outcome object, evidence packs, async forms, rulesets.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const lic = require('..')

const ROOT = path.join(__dirname, '..', '..')
const DEMO = path.join(ROOT, 'fixtures', 'demo')
const DEFAULT_RULESET = fs.readFileSync(path.join(ROOT, 'rulesets', 'default', 'v1.json'))

function throwsCode(fn, code, extra = () => {}) {
  let caught
  try {
    fn()
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof Error, `expected an Error with code ${code}, got ${caught}`)
  assert.equal(caught.code, code, caught.message)
  extra(caught)
  return caught
}

async function rejectsCode(promise, code) {
  let caught
  try {
    await promise
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof Error, `expected a rejection with code ${code}`)
  assert.equal(caught.code, code, caught.message)
  return caught
}

test('version is the package version', () => {
  assert.equal(lic.version(), require('../package.json').version)
})

test('vocabulary is the core\'s', () => {
  // fixtures/vocabulary.json is pinned against the core by core/src/api.rs.
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'vocabulary.json'), 'utf8'))
  const v = lic.vocabulary()
  assert.deepEqual(v, fixture)
  assert.deepEqual(Object.keys(v).sort(), Object.keys(fixture).sort())
  assert.equal(v.diff_reasons[0], 'merged_identity')
})

test('wrong JavaScript types are coded errors, never crashes', () => {
  throwsCode(() => lic.reconcile(), 'invalid_argument')
  throwsCode(() => lic.reconcile(undefined), 'invalid_argument')
  throwsCode(() => lic.reconcile(42), 'invalid_argument', (e) => assert.match(e.message, /bundleDir.*string.*number/))
  throwsCode(() => lic.reconcile(DEMO, 'not options'), 'invalid_argument')
  throwsCode(() => lic.reconcile(DEMO, { previous: 12 }), 'invalid_argument')
  throwsCode(() => lic.reconcileFiles('a string'), 'invalid_argument')
  throwsCode(() => lic.reconcileFiles(['bundle.json']), 'invalid_argument')
  throwsCode(() => lic.reconcileFiles({ 'bundle.json': 5 }), 'invalid_argument')
  throwsCode(() => lic.reconcileFiles({ 'bundle.json': undefined }), 'invalid_argument')
  throwsCode(() => lic.reconcileFiles({ '../outside.csv': 'x' }), 'invalid_input')
  throwsCode(() => lic.validateRuleset(undefined), 'invalid_argument')
  throwsCode(() => lic.validateRuleset(7), 'invalid_argument')
  throwsCode(() => lic.validateRuleset(DEFAULT_RULESET, { skuIds: 'acrobat' }), 'invalid_argument')
  throwsCode(() => lic.validateRuleset(DEFAULT_RULESET, { skuIds: [1] }), 'invalid_argument')
  throwsCode(() => lic.hashRuleset(null), 'invalid_argument')
  throwsCode(() => lic.diffRulesets(DEFAULT_RULESET), 'invalid_argument')
  throwsCode(() => lic.canonicalize(Symbol('x')), 'invalid_argument')
  throwsCode(() => lic.verifyPack('not a buffer'), 'invalid_argument')
  throwsCode(() => lic.verifyPack(), 'invalid_argument')
  throwsCode(() => lic.sidebar(), 'invalid_argument')
  throwsCode(() => lic.sidebar({}), 'invalid_argument', (e) => assert.match(e.message, /now/))
  throwsCode(() => lic.sidebar({ now: 20261122 }), 'invalid_argument')
  throwsCode(() => lic.sidebar({ now: '2026-11-22T06:00:00Z', staleFactor: 1.5 }), 'invalid_argument')
  throwsCode(() => lic.sidebar({ now: '2026-11-22T06:00:00Z', scheduleIntervalSecs: '1d' }), 'invalid_argument')
})

test('bad documents are coded errors with their location', () => {
  throwsCode(() => lic.canonicalize('{"a": 1,}'), 'invalid_input')
  throwsCode(() => lic.canonicalize('[0.5]'), 'non_canonical')
  throwsCode(() => lic.canonicalize({ big: 2 ** 53 }), 'non_canonical')
  throwsCode(() => lic.hashRuleset('{'), 'invalid_ruleset', (e) => {
    assert.equal(e.number, 2)
    assert.equal(e.errors[0].code, 'invalid_json')
    assert.equal(e.errors[0].path, '$')
  })
  throwsCode(() => lic.reconcile(path.join(ROOT, 'no-such-bundle')), 'invalid_input')
  throwsCode(() => lic.sidebar({ now: 'yesterday' }), 'invalid_input')
  throwsCode(() => lic.sidebar({ now: '2026-11-22T06:00:00Z', snapshot: '{}' }), 'previous_snapshot_invalid')
})

test('a run that fails closed throws with its reasons, errors and report', () => {
  const files = {
    'bundle.json': { organization_id: 'o', as_of: '2026-11-22T06:00:00Z', run_id: 'r', ruleset: 'ruleset.json' },
    'catalog.json': { vendors: [{ id: 'v', name: 'V' }], skus: [{ id: 'a', vendor: 'v', model: 'device' }] },
    'entitlements.csv': ['entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency', 'e1,ghost,c,1,2026-01-01,,,'],
    'ruleset.json': DEFAULT_RULESET,
  }
  const e = throwsCode(() => lic.reconcileFiles(files), 'catalog_integrity')
  assert.deepEqual(e.reasons, ['catalog_integrity'])
  assert.equal(e.number, 3)
  assert.equal(e.file, 'entitlements.csv')
  assert.equal(e.line, 2)
  assert.equal(e.errors[0].field, 'sku')
  assert.equal(e.report.status, 'failed')
  assert.equal(e.report.snapshot_hash, null)
  assert.match(e.message, /unknown SKU `ghost`/)
})

test('the Outcome: status, snapshot, exceptions, evidence pack', () => {
  const o = lic.reconcile(DEMO)
  assert.equal(o.status, 'ok')
  assert.match(o.snapshotHash, /^sha256:[0-9a-f]{64}$/)
  assert.equal(o.snapshot.snapshot_hash, o.snapshotHash)
  assert.equal(lic.canonicalize(o.snapshot), o.snapshotJson, 'snapshotJson is the canonical form')
  assert.equal(o.snapshot.skus.find((s) => s.sku === 'acrobat-pro').consumed, 8)
  assert.equal(o.report.status, 'ok')
  assert.deepEqual(
    o.exceptions.map((x) => x.code),
    ['future_signal', 'low_confidence', 'unmapped_product'],
  )
  assert.equal(o.exceptionsJsonl().trim().split('\n').length, 3)
  const pack = o.evidencePack()
  assert.ok(Buffer.isBuffer(pack) && pack.length > 10000)
  assert.ok(o.evidencePack().equals(pack), 'the pack is built once and deterministic')
  const report = lic.verifyPack(pack)
  assert.equal(report.ok, true)
  assert.equal(report.snapshotHash, o.snapshotHash)
  assert.ok(report.checks.some((c) => c.name === 'replay' && c.status === 'passed'))
  const tampered = Buffer.from(pack)
  tampered[Math.floor(tampered.length / 2)] ^= 0x20
  const bad = lic.verifyPack(tampered)
  assert.equal(bad.ok, false)
  assert.equal(typeof bad.firstFailure, 'string')
  assert.equal(lic.verifyPack(new Uint8Array([1, 2, 3])).ok, false)
})

test('packArchive: the tar inside a compressed pack; a plain pack as it is', () => {
  const o = lic.reconcile(DEMO)
  const pack = o.evidencePack(2)
  assert.deepEqual([...pack.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'the CLI\'s compressed form')
  assert.ok(lic.reconcile(DEMO).evidencePack(1).equals(pack), 'the same bytes for 1 and 2 threads')
  const tar = lic.packArchive(pack)
  assert.ok(tar.length > pack.length * 5)
  // A ustar archive whose first member is bundle.json, and the manifest inside.
  assert.equal(tar.subarray(0, 11).toString(), 'bundle.json')
  assert.equal(tar.subarray(257, 262).toString(), 'ustar')
  assert.ok(tar.includes(Buffer.from(`"snapshot_hash":"${o.snapshotHash}"`)))
  // The pack written before compression is a plain tar: returned as it is, and it verifies.
  const old = fs.readFileSync(path.join(ROOT, 'fixtures', 'packs', 'demo-plain-v1.tar'))
  assert.ok(lic.packArchive(old).equals(old))
  assert.ok(tar.equals(old), 'the compressed pack wraps the archive of before')
  assert.equal(lic.verifyPack(tar).ok, true)
  throwsCode(() => lic.packArchive(pack.subarray(0, 100)), 'invalid_input', (e) => assert.match(e.message, /zstd frame/))
  throwsCode(() => lic.packArchive('pack'), 'invalid_argument')
})

test('chaining: a previous snapshot as bytes, text or object', () => {
  const first = lic.reconcile(DEMO)
  for (const previous of [Buffer.from(first.snapshotJson), first.snapshotJson, first.snapshot]) {
    const second = lic.reconcile(DEMO, { previous })
    assert.equal(second.snapshot.sequence, 2)
    assert.equal(second.snapshot.previous_hash, first.snapshotHash)
  }
  const tampered = { ...first.snapshot, sequence: 7 }
  throwsCode(() => lic.reconcile(DEMO, { previous: tampered }), 'previous_snapshot_invalid')
})

test('async forms run off the main thread and settle like the sync ones', async () => {
  let ticks = 0
  const timer = setInterval(() => ticks++, 0)
  const o = await lic.reconcileAsync(DEMO)
  clearInterval(timer)
  assert.equal(o.snapshotHash, lic.reconcile(DEMO).snapshotHash)
  assert.ok(ticks > 0, 'the event loop kept turning during the reconciliation')
  const report = await lic.verifyPackAsync(o.evidencePack())
  assert.equal(report.ok, true)
  const e = await rejectsCode(lic.reconcileFilesAsync({ 'bundle.json': '{}' }), 'invalid_input')
  assert.deepEqual(e.reasons, ['invalid_input'])
  await rejectsCode(lic.reconcileAsync(DEMO, { previous: '{"schema": 1}' }), 'previous_snapshot_invalid')
  throwsCode(() => lic.reconcileAsync(123), 'invalid_argument')
  throwsCode(() => lic.verifyPackAsync(undefined), 'invalid_argument')
})

test('threads change how a run is carried out, never its bytes', async () => {
  const one = lic.reconcile(DEMO)
  for (const threads of [1, 2, 3]) {
    const other = lic.reconcile(DEMO, { threads })
    assert.equal(other.snapshotJson, one.snapshotJson, `threads ${threads}`)
    assert.equal(other.exceptionsJsonl(), one.exceptionsJsonl(), `threads ${threads}`)
    assert.ok(other.evidencePack().equals(one.evidencePack()), `threads ${threads}`)
  }
  const viaAsync = await lic.reconcileAsync(DEMO, { threads: 2 })
  assert.equal(viaAsync.snapshotJson, one.snapshotJson)
  for (const bad of [0, -1]) {
    throwsCode(() => lic.reconcile(DEMO, { threads: bad }), 'invalid_input', (e) => assert.match(e.message, /threads/))
  }
  throwsCode(() => lic.reconcile(DEMO, { threads: 1.5 }), 'invalid_argument')
  throwsCode(() => lic.reconcile(DEMO, { threads: '2' }), 'invalid_argument')
})

test('keepUnits: false gives the same outputs and no pack', () => {
  const full = lic.reconcile(DEMO)
  const lean = lic.reconcile(DEMO, { keepUnits: false, threads: 2 })
  assert.equal(lean.snapshotJson, full.snapshotJson)
  assert.equal(lean.exceptionsJsonl(), full.exceptionsJsonl())
  assert.deepEqual(lean.report, full.report)
  assert.throws(() => lean.evidencePack(), /without keeping its units/)
  throwsCode(() => lic.reconcile(DEMO, { keepUnits: 'no' }), 'invalid_argument', (e) => assert.match(e.message, /keepUnits/))
})

test('rulesets: validate (text, Buffer, object), hash, catalog check', () => {
  const doc = JSON.parse(DEFAULT_RULESET.toString())
  const fromText = lic.validateRuleset(DEFAULT_RULESET.toString())
  const fromObject = lic.validateRuleset(doc)
  assert.equal(fromText.ok, true)
  assert.deepEqual(fromText.errors, [])
  assert.equal(fromObject.hash, fromText.hash, 'an object hashes like its text')
  assert.equal(lic.hashRuleset(DEFAULT_RULESET), fromText.hash)
  const bad = lic.validateRuleset({ ...doc, version: 1.5, window: 3 })
  assert.equal(bad.ok, false)
  assert.deepEqual(
    bad.errors.map((e) => [e.path, e.code]),
    [['$.window', 'unknown_key'], ['$.version', 'wrong_type'], ['$', 'wrong_type']],
  )
  const mapped = { ...doc, sku_mappings: [{ match: 'exact', field: 'product', value: 'X', sku: 'x-sku' }] }
  assert.equal(lic.validateRuleset(mapped).ok, true)
  const checked = lic.validateRuleset(mapped, { skuIds: ['other'] })
  assert.deepEqual(checked.errors.map((e) => e.code), ['unknown_sku'])
})

test('diffRulesets says which rules changed, in words', () => {
  const doc = JSON.parse(DEFAULT_RULESET.toString())
  const same = lic.diffRulesets(DEFAULT_RULESET, JSON.stringify(doc, null, 8))
  assert.equal(same.identical, true)
  assert.deepEqual(same.changes, [])
  const next = {
    ...doc,
    version: 2,
    lookback_days: { ...doc.lookback_days, usage: 60 },
    sku_mappings: [{ match: 'prefix', field: 'product', value: 'Adobe Acrobat', sku: 'acrobat-pro' }],
  }
  const d = lic.diffRulesets(doc, next)
  assert.equal(d.identical, false)
  assert.equal(d.before.version, 1)
  assert.equal(d.after.version, 2)
  assert.deepEqual(
    d.changes.map((c) => [c.path, c.kind]),
    [['$.version', 'changed'], ['$.lookback_days.usage', 'changed'], ['$.sku_mappings[0]', 'added']],
  )
  assert.equal(d.changes[1].before, 90)
  assert.equal(d.changes[1].after, 60)
  assert.equal(d.changes[1].text, 'usage signals count for 60 days before as_of, was 90')
  assert.equal(d.changes[2].text, 'new rule 1: products starting with `adobe acrobat` map to `acrobat-pro`')
  assert.match(d.text, /^ruleset default v1 \(sha256:[0-9a-f]{64}\) -> default v2 \(sha256:[0-9a-f]{64}\): 3 changes\n/)
  throwsCode(() => lic.diffRulesets(doc, { ...doc, id: 5 }), 'invalid_ruleset', (e) => {
    assert.deepEqual(e.errors.map((x) => x.path), ['$.id'])
  })
})

test('sidebar from a snapshot object or bytes', () => {
  const o = lic.reconcile(DEMO)
  for (const snapshot of [o.snapshot, Buffer.from(o.snapshotJson)]) {
    const s = lic.sidebar({ snapshot, now: '2026-11-22T07:00:00Z' })
    assert.equal(s.state, 'ok')
    assert.equal(s.snapshot_hash, o.snapshotHash)
    assert.deepEqual(s.counters, o.snapshot.totals)
  }
  const stale = lic.sidebar({ snapshot: o.snapshot, now: '2026-11-25T06:00:00Z', scheduleIntervalSecs: 86400, staleFactor: 2 })
  assert.equal(stale.state, 'stale')
  assert.equal(stale.stale_seconds, 3 * 86400)
  const never = lic.sidebar({ now: '2026-11-22T07:00:00Z', lastRun: { status: 'failed', reasons: ['catalog_integrity'] } })
  assert.equal(never.state, 'failed')
  assert.equal(never.counters, null)
})
