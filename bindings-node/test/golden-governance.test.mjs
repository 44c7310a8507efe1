// The governance golden vectors of fixtures/golden (kinds `authorize`,
// `decide`, `apply`, `audit-verify`, `audit-prove`, `audit-proof`; format in
// fixtures/golden/README.md) through the Node binding, compared with
// expected.json as parsed JSON; `{"error": {"code"}}` compares the code only.
// Every kind Node has must have at least one case: a vector set that lost a
// kind fails here. `EUCORA_GOLDEN_DIR` points the test at another directory
// of cases (for development only).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const lic = require('..')

const HERE = path.dirname(fileURLToPath(import.meta.url))
const GOLDEN = process.env.EUCORA_GOLDEN_DIR || path.join(HERE, '..', '..', 'fixtures', 'golden')

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'))

// Byte order of the names (the names are ASCII, where code-unit order is byte order).
const cases = fs
  .readdirSync(GOLDEN)
  .filter((name) => fs.existsSync(path.join(GOLDEN, name, 'case.json')))
  .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  .map((name) => ({ name, dir: path.join(GOLDEN, name), spec: readJson(path.join(GOLDEN, name, 'case.json')) }))

const options = (spec) => (spec.policy === undefined || spec.policy === null ? undefined : { policy: spec.policy })
const log = (dir) => fs.readFileSync(path.join(dir, 'log.jsonl'))

/** What each kind observes through the binding. */
const KINDS = {
  authorize: ({ spec }) => lic.authorize(spec.actor, spec.action, options(spec)),
  decide: ({ spec }) => lic.decide(spec.proposal, spec.approvals, spec.now, options(spec)),
  apply: ({ spec }) => lic.apply(spec.proposal, spec.approvals, spec.now, { ...options(spec), applied: spec.applied }),
  'audit-verify': ({ spec, dir }) => lic.auditVerify(log(dir), spec.checkpoint ?? undefined),
  'audit-prove': ({ spec, dir }) => {
    const entries = log(dir)
    const proof = spec.seq !== undefined ? lic.auditProve(entries, spec.seq) : lic.auditConsistency(entries, spec.old_size)
    return { proof, checkpoint: lic.auditCheckpoint(entries) }
  },
  'audit-proof': ({ spec }) => lic.auditVerifyProof(spec.proof, spec.checkpoint),
}

/** The result, or a contract error as `{error: {code}}` (binding errors stay errors). */
function observe(kase) {
  try {
    return KINDS[kase.spec.kind](kase)
  } catch (e) {
    if (typeof e.code === 'string' && e.code !== 'invalid_argument' && e.code !== 'internal') return { error: { code: e.code } }
    throw e
  }
}

for (const kind of Object.keys(KINDS)) {
  test(`golden ${kind}: the vector set has cases of this kind`, () => {
    assert.ok(
      cases.some((c) => c.spec.kind === kind),
      `no case of kind ${kind} in ${GOLDEN}: the governance vectors are missing`
    )
  })
}

for (const kase of cases.filter((c) => Object.hasOwn(KINDS, c.spec.kind))) {
  test(`golden ${kase.name}`, () => {
    const expected = readJson(path.join(kase.dir, 'expected.json'))
    const actual = observe(kase)
    if (expected.error) {
      assert.deepStrictEqual(actual, { error: { code: expected.error.code } }, kase.spec.description)
    } else {
      assert.deepStrictEqual(actual, expected, kase.spec.description)
    }
  })
}
