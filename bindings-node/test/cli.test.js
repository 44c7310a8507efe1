'use strict'
// The eucora-ruleset tool, as build scripts run it.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const lic = require('..')

const ROOT = path.join(__dirname, '..', '..')
const BIN = path.join(__dirname, '..', 'bin', 'eucora-ruleset.js')
const DEFAULT = path.join(ROOT, 'rulesets', 'default', 'v1.json')
const POLICY = path.join(ROOT, 'rulesets', 'default', 'policy-v1.json')

function run(args, cwd = ROOT) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'eucora-ruleset-'))
}

function writeRuleset(dir, name, edit) {
  const doc = JSON.parse(fs.readFileSync(DEFAULT, 'utf8'))
  edit(doc)
  const file = path.join(dir, name)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(doc, null, 2))
  return file
}

test('check rulesets/**/*.json from the repository root: valid, the JSON Schemas skipped', () => {
  const r = run(['check', 'rulesets/**/*.json'])
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^ok {6}rulesets\/default\/v1\.json {2}\(default v1, sha256:[0-9a-f]{64}\)$/m)
  assert.match(r.stdout, /^ok {6}rulesets\/default\/policy-v1\.json {2}\(default v1, sha256:[0-9a-f]{64}\)$/m)
  assert.match(r.stdout, /^skipped rulesets\/schema\/ruleset\.schema\.json {2}\(a JSON Schema document, not a ruleset\)$/m)
  assert.match(r.stdout, /^skipped rulesets\/default\/policy-v1\.schema\.json /m)
  assert.match(r.stdout, /^1 ruleset and 1 policy valid$/m)
})

test('a policy is checked as a policy: every problem located, its hash printed', () => {
  const dir = tmpDir()
  const doc = JSON.parse(fs.readFileSync(POLICY, 'utf8'))
  doc.alerts.spike_percnt = 25
  doc.advisor.currency = 'usd'
  doc.approvals.recommendation.quorum = 0
  doc.access.roles.viewer.push('view.everything')
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify(doc, null, 2))
  const r = run(['check', 'policy.json'], dir)
  assert.equal(r.status, 1)
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'policy.json:$.alerts.spike_percnt: unknown_key unknown key `spike_percnt`',
    'policy.json:$.advisor.currency: out_of_range must be three upper-case letters (ISO 4217)',
    'policy.json:$.access.roles.viewer[2]: unknown_name unknown action `view.everything`',
    'policy.json:$.approvals.recommendation.quorum: out_of_range must be an integer ≥ 1',
    '1 of 1 policy invalid (4 problems)',
  ])
  const h = run(['hash', POLICY])
  assert.equal(h.status, 0, h.stderr)
  assert.equal(h.stdout.trim(), lic.validatePolicy(fs.readFileSync(POLICY)).hash)
  assert.match(h.stdout, /^sha256:[0-9a-f]{64}\n$/)
})

test('npx eucora-ruleset check rulesets/**/*.json works from the root (shell glob and quoted glob)', (t) => {
  if (!fs.existsSync(path.join(ROOT, 'node_modules', '.bin', 'eucora-ruleset'))) {
    t.skip('run `npm ci` at the repository root first')
    return
  }
  for (const command of ['npx --no-install eucora-ruleset check rulesets/**/*.json', "npx --no-install eucora-ruleset check 'rulesets/**/*.json'"]) {
    const r = spawnSync('sh', ['-c', command], { cwd: ROOT, encoding: 'utf8' })
    assert.equal(r.status, 0, `${command}\n${r.stdout}${r.stderr}`)
    assert.match(r.stdout, /^ok {6}rulesets\/default\/v1\.json/m)
  }
})

test('a broken ruleset fails with one precise line per problem', () => {
  const dir = tmpDir()
  writeRuleset(dir, 'rulesets/good.json', () => {})
  writeRuleset(dir, 'rulesets/team/broken.json', (d) => {
    d.lookback_dayz = { usage: 1 }
    d.concurrent.window_days = -3
    d.min_confidence = 0.5
    delete d.stale_factor
  })
  fs.writeFileSync(path.join(dir, 'rulesets', 'team', 'truncated.json'), '{"id": "x",\n  "version": ')
  const r = run(['check', 'rulesets/**/*.json'], dir)
  assert.equal(r.status, 1)
  const lines = r.stdout.trim().split('\n')
  assert.deepEqual(lines, [
    'ok      rulesets/good.json  (default v1, sha256:4e334874064538a6855d33ebf00afe500e9ee27e622e40c4b136ea964a325e0f)',
    'rulesets/team/broken.json:$.stale_factor: missing_key required key `stale_factor` is missing',
    'rulesets/team/broken.json:$.lookback_dayz: unknown_key unknown key `lookback_dayz`',
    'rulesets/team/broken.json:$.min_confidence: wrong_type expected a decimal string such as "0.5"',
    'rulesets/team/broken.json:$.concurrent.window_days: out_of_range must be an integer ≥ 0',
    'rulesets/team/broken.json:$: wrong_type float 0.5 in hashed data: use an integer or a decimal string',
    'rulesets/team/truncated.json:$: invalid_json malformed JSON at line 2 column 13: EOF while parsing a value',
    '2 of 3 rulesets invalid (6 problems)',
  ])
})

test('check --json for machines', () => {
  const dir = tmpDir()
  writeRuleset(dir, 'bad.json', (d) => {
    d.version = 0
  })
  const r = run(['check', '--json', 'bad.json', DEFAULT], dir)
  assert.equal(r.status, 1)
  const out = JSON.parse(r.stdout)
  assert.equal(out.ok, false)
  assert.deepEqual(out.files[0], {
    file: 'bad.json',
    status: 'invalid',
    errors: [{ path: '$.version', code: 'out_of_range', message: 'must be an integer ≥ 1' }],
  })
  assert.equal(out.files[1].status, 'valid')
  assert.equal(out.files[1].hash, lic.hashRuleset(fs.readFileSync(DEFAULT)))
})

test('check --catalog: every mapping names a SKU of the catalog', () => {
  const dir = tmpDir()
  const file = writeRuleset(dir, 'r.json', (d) => {
    d.sku_mappings = [
      { match: 'exact', field: 'product', value: 'Visio', sku: 'visio-plan2' },
      { match: 'prefix', field: 'product', value: 'Photoshop', sku: 'photoshop' },
    ]
  })
  const catalog = path.join(ROOT, 'fixtures', 'demo', 'catalog.json')
  const r = run(['check', '--catalog', catalog, file])
  assert.equal(r.status, 1)
  assert.match(r.stdout, /r\.json:\$\.sku_mappings\[1\]\.sku: unknown_sku SKU `photoshop` is not in the catalog$/m)
  assert.doesNotMatch(r.stdout, /sku_mappings\[0\]/)
  assert.equal(run(['check', file]).status, 0, 'without a catalog the SKUs are not checked')
})

test('hash and diff', () => {
  const h = run(['hash', DEFAULT])
  assert.equal(h.status, 0)
  assert.equal(h.stdout, lic.hashRuleset(fs.readFileSync(DEFAULT)) + '\n')
  const dir = tmpDir()
  const next = writeRuleset(dir, 'v2.json', (d) => {
    d.version = 2
    d.concurrent.dup_group = 'user'
  })
  const d = run(['diff', DEFAULT, next])
  assert.equal(d.status, 0, d.stderr)
  const lines = d.stdout.trim().split('\n')
  assert.match(lines[0], /^ruleset default v1 \(sha256:[0-9a-f]{64}\) -> default v2 \(sha256:[0-9a-f]{64}\): 2 changes$/)
  assert.equal(lines[1], '  changed version: version 2, was 1')
  assert.equal(
    lines[2],
    '  changed concurrent.dup_group: overlapping sessions of one user merge across hosts (dup_group user), was: overlapping sessions of one user on one host merge (dup_group user_host)',
  )
  const j = JSON.parse(run(['diff', '--json', DEFAULT, next]).stdout)
  assert.equal(j.changes.length, 2)
  const broken = writeRuleset(dir, 'broken.json', (d) => {
    d.version = 'two'
  })
  const b = run(['hash', broken])
  assert.equal(b.status, 1)
  assert.match(b.stderr, /broken\.json:\$\.version: wrong_type expected an integer/)
  assert.equal(run(['diff', DEFAULT, broken]).status, 1)
})

test('usage errors exit 2; a missing file is invalid', () => {
  for (const args of [[], ['frobnicate'], ['check'], ['check', 'nothing/**/*.json'], ['hash'], ['diff', DEFAULT], ['check', '--bogus', DEFAULT]]) {
    const r = run(args)
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`)
    assert.match(r.stderr, /^eucora-ruleset: /)
  }
  const missing = run(['check', 'no-such-file.json'])
  assert.equal(missing.status, 1)
  assert.match(missing.stdout, /^no-such-file\.json:\$: unreadable cannot read the file \(ENOENT\)$/m)
  assert.equal(run(['--help']).status, 0)
  assert.equal(run(['--version']).stdout, `eucora-ruleset ${lic.version()}\n`)
})
