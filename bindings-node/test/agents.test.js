'use strict'
// The five agents of DESIGN D4 through the Node runner: each with no model
// and with the shipped ScriptedModel on the demo, a model that throws or
// answers badly (a failed or fallback step, never a crash), replay, no
// secret in a run record, and equality with the CLI's `agent run`.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const lic = require('..')
const { ScriptedModel } = require('../testing')
const { findCli } = require('../test-support/cli.js')

const ROOT = path.join(__dirname, '..', '..')
const DEMO = path.join(ROOT, 'fixtures', 'demo')
const AT = '2026-11-22T07:00:00Z'
const OPERATOR = { type: 'user', id: 'u-olivia', roles: ['agent_operator'] }
const VIEWER = { type: 'user', id: 'u-vic', roles: ['viewer'] }
const CONTRACT =
  'Contract MS-EA-2024-0117\nMicrosoft 365 E3: 15 seats from 2024-07-01 to 2027-12-31\n' +
  'License key: ABCDE-12345-FGHIJ-67890-KLMNO\nActivation XYZ12-AB34C-77QQ9-PLMN0 for Visio\n'
const SECRETS = ['ABCDE-12345-FGHIJ-67890-KLMNO', 'XYZ12-AB34C-77QQ9-PLMN0', 'tok-5ecret']

/** Every file under `dir` (not *.md) as `prefix/<relative path>`, sorted. */
function loadDir(prefix, dir, into = {}) {
  const walk = (d) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name)
      if (fs.statSync(p).isDirectory()) walk(p)
      else if (!name.endsWith('.md')) into[`${prefix}/${path.relative(dir, p).split(path.sep).join('/')}`] = fs.readFileSync(p)
    }
  }
  walk(dir)
  return into
}

const demoFile = (name) => fs.readFileSync(path.join(DEMO, name))

function truthInputs() {
  return loadDir('bundle', DEMO)
}

let historyCache
/** The demo history reconciled here, each step chained to the previous pack. */
function historyInputs() {
  if (historyCache) return historyCache
  const inputs = {}
  let pack
  ;['step-1', 'step-2', 'step-3'].forEach((step, n) => {
    const out = lic.reconcile(path.join(ROOT, 'fixtures', 'demo-history', step), pack ? { previous: pack } : undefined)
    inputs[`history/${String(n + 1).padStart(4, '0')}`] = Buffer.from(out.snapshotJson, 'utf8')
    pack = out.evidencePack()
  })
  inputs.pack = pack
  historyCache = inputs
  return inputs
}

function discoveryInputs() {
  const inputs = loadDir('exports', path.join(DEMO, 'imports'))
  inputs['bundle.json'] = demoFile('bundle.json')
  inputs.ruleset = demoFile('ruleset.json')
  inputs.catalog = demoFile('catalog.json')
  return inputs
}

function inventoryInputs() {
  const inputs = {}
  loadDir('exports/entra-users', path.join(DEMO, 'imports', 'entra-users'), inputs)
  loadDir('exports/adobe-users', path.join(DEMO, 'imports', 'adobe-users'), inputs)
  inputs['bundle.json'] = demoFile('bundle.json')
  inputs.ruleset = demoFile('ruleset.json')
  inputs.catalog = demoFile('catalog.json')
  inputs.entitlements = demoFile('entitlements.csv')
  inputs['contracts/ms-ea.txt'] = CONTRACT
  return inputs
}

const INPUTS = {
  truth_builder: truthInputs,
  anomaly_detector: historyInputs,
  optimization_advisor: historyInputs,
  consumption_discovery: discoveryInputs,
  inventory_extractor: inventoryInputs,
}

/** A narrative citing every fact and stating the first integer one: grounded. */
function grounded(request) {
  const facts = JSON.parse(request.prompt.split('\n\n')[0]).facts
  const num = facts.map((f) => f.value).find((v) => Number.isInteger(v)) ?? 0
  return { sentences: [{ text: `Watch this: ${num} is the figure.`, fact_ids: facts.map((f) => f.id) }] }
}

/** A script with a valid answer for every purpose of the demo. */
const SCRIPT = {
  consumption_discovery: { mapping: { sku: 'autocad' } },
  inventory_extractor: {
    contract: {
      entitlements: [
        { contract_id: 'MS-EA-2024-0117', sku: 'm365-e3', quantity: 15, starts_on: '2024-07-01', ends_on: '2027-12-31' },
        { contract_id: 'MS-EA-2024-0117', sku: 'intellij-ultimate', quantity: 2, starts_on: '2024-07-01', ends_on: '2027-12-31' },
      ],
    },
  },
}

function scripted() {
  return new ScriptedModel((request) => {
    if (request.purpose === 'narrative') return grounded(request)
    const reply = SCRIPT[request.agent]?.[request.purpose]
    if (reply === undefined) throw new Error(`unscripted ${request.agent}/${request.purpose}`)
    return reply
  }, { id: 'scripted-demo' })
}

function run(agent, extra = {}) {
  const inputs = INPUTS[agent]()
  const result = lic.runAgent({ agent, actor: OPERATOR, at: AT, correlationId: 'corr-1', inputs, ...extra })
  return { ...result, inputs }
}

/** Replay reproduces the run's outputs without any model; no secret in the record or its entry. */
function assertReplaysAndClean(result) {
  const again = lic.replayAgent(result, result.inputs)
  assert.deepStrictEqual(again, { ok: true, run_id: result.run.run_id, outputs: result.run.outputs })
  assert.equal(lic.canonicalize(JSON.stringify(again.outputs)), lic.canonicalize(JSON.stringify(result.run.outputs)))
  const entry = lic.auditAppend(null, result.auditEntry)
  assert.equal(lic.auditVerify([entry]).ok, true)
  const text = JSON.stringify(result.run) + JSON.stringify(entry)
  for (const s of SECRETS) assert.ok(!text.includes(s), `secret ${s} leaked`)
}

const kinds = (r) => r.run.steps.map((s) => `${s.step}:${s.status}:${s.detail}`)

for (const agent of Object.keys(INPUTS)) {
  test(`${agent}: no model, deterministic, replayable`, () => {
    const a = run(agent)
    assert.equal(a.run.status, 'ok', JSON.stringify(a.run.steps))
    assert.equal(a.run.error, null)
    assert.equal(a.run.agent, agent)
    assert.deepStrictEqual(a.run.actor, { type: 'agent', agent, on_behalf_of: OPERATOR })
    assert.deepStrictEqual(a.run.model_calls, [])
    assert.ok(a.run.steps.every((s) => s.status !== 'failed'))
    assert.ok(kinds(a)[0].startsWith('authorize '), 'the first step is authorize')
    assert.equal(a.auditEntry.action, 'agent.run')
    assert.deepStrictEqual(a.auditEntry.entity, { type: 'agent_run', id: a.run.run_id })
    // Deterministic: the same run twice is the same record.
    assert.deepStrictEqual(run(agent).run, a.run)
    assertReplaysAndClean(a)
  })

  test(`${agent}: with ScriptedModel`, () => {
    const model = scripted()
    const m = run(agent, { model })
    const base = run(agent)
    assert.equal(m.run.status, 'ok', JSON.stringify(m.run.steps))
    assert.equal(m.run.model_calls.length, model.requests.length)
    for (const [i, c] of m.run.model_calls.entries()) {
      assert.equal(c.model_id, 'scripted-demo')
      assert.deepStrictEqual(c.request, model.requests[i])
      assert.equal(c.error, null)
    }
    switch (agent) {
      case 'truth_builder':
      case 'optimization_advisor':
        // These ask no model: the same outputs as without one.
        assert.deepStrictEqual(m.run.outputs, base.run.outputs)
        break
      case 'anomaly_detector':
        assert.ok(m.run.outputs.alerts.length > 0)
        assert.equal(m.run.model_calls.length, m.run.outputs.alerts.length)
        for (const a of m.run.outputs.alerts) {
          assert.equal(a.message_source, 'model')
          assert.match(a.message, /^Watch this: /)
        }
        break
      case 'consumption_discovery':
        assert.deepStrictEqual(base.run.outputs.unmapped_products, ['Autodesk Revit 2026'])
        assert.deepStrictEqual(
          m.run.outputs.proposals.map((p) => [p.kind, p.payload]),
          [['mapping.sku', { match: 'exact', field: 'product', value: 'Autodesk Revit 2026', sku: 'autocad' }]]
        )
        assert.deepStrictEqual(m.run.outputs.signals, base.run.outputs.signals)
        break
      case 'inventory_extractor': {
        const d = m.run.outputs.discrepancies
        assert.ok(d.some((x) => x.type === 'dates_differ' && x.entitlement_id === 'E-001'))
        assert.ok(d.some((x) => x.type === 'missing_entitlement' && x.sku === 'intellij-ultimate'))
        assert.ok(m.run.outputs.proposals.some((p) => p.kind === 'entitlement.create' && p.payload.sku === 'intellij-ultimate'))
        // The contract reached the model redacted.
        assert.ok(!model.requests[0].prompt.includes('ABCDE-12345'))
        break
      }
    }
    assertReplaysAndClean(m)
  })
}

test('a model that throws fails its step, never the process; its error text is not kept', () => {
  let calls = 0
  const r = run('anomaly_detector', {
    model: () => {
      calls++
      throw new Error('connection reset; token=tok-5ecret')
    },
  })
  assert.equal(r.run.status, 'ok')
  const n = r.run.outputs.alerts.length
  assert.ok(n > 0)
  assert.equal(calls, n, 'a failed call is not re-asked')
  assert.equal(r.run.model_calls.length, n)
  for (const c of r.run.model_calls) {
    assert.deepStrictEqual([c.response, c.response_hash, c.error, c.model_id], [null, null, 'model_call_failed', 'js'])
  }
  assert.equal(r.run.steps.filter((s) => s.status === 'failed' && s.detail === 'model_call_failed').length, n)
  assert.deepStrictEqual(
    r.run.outputs.alerts.map((a) => a.message),
    run('anomaly_detector').run.outputs.alerts.map((a) => a.message),
    'the deterministic messages'
  )
  assertReplaysAndClean(r)
  // Throwing something that is not an Error, or answering with something
  // that is not text, is a failed call too.
  for (const model of [
    () => {
      throw 'a string' // eslint-disable-line no-throw-literal
    },
    () => 42,
    () => undefined,
    { id: 'obj', call: () => null },
  ]) {
    const x = run('anomaly_detector', { model })
    assert.equal(x.run.status, 'ok')
    assert.ok(x.run.model_calls.every((c) => c.error === 'model_call_failed'))
  }
  // The ScriptedModel without a reply for the purpose: a failed call.
  const unscripted = run('anomaly_detector', { model: new ScriptedModel({ anomaly_detector: {} }) })
  assert.ok(unscripted.run.model_calls.every((c) => c.error === 'model_call_failed' && c.model_id === 'scripted'))
})

test('invalid JSON is re-asked twice, then the deterministic path is taken', () => {
  const model = new ScriptedModel({ anomaly_detector: { narrative: '{not json' } })
  const r = run('anomaly_detector', { model, modelId: 'named-by-host' })
  const n = r.run.outputs.alerts.length
  assert.equal(r.run.model_calls.length, 3 * n)
  assert.ok(r.run.model_calls.every((c) => c.model_id === 'named-by-host'))
  assert.match(r.run.model_calls[1].request.prompt, /\$: not JSON/)
  assert.equal(r.run.steps.filter((s) => s.detail === 'model_output_invalid').length, 3 * n)
  assert.ok(r.run.outputs.alerts.every((a) => a.message_source === 'deterministic'))
  assertReplaysAndClean(r)
  // An unknown SKU is refused the same way: no proposal is built from it.
  const d = run('consumption_discovery', { model: new ScriptedModel({ consumption_discovery: { mapping: { sku: 'no-such-sku' } } }) })
  assert.equal(d.run.model_calls.length, 3)
  assert.deepStrictEqual(d.run.outputs.proposals, [])
  // An ungrounded number drops the narrative (a fallback step, not a re-ask).
  const u = run('anomaly_detector', {
    model: (json) => {
      const facts = JSON.parse(JSON.parse(json).prompt).facts
      return JSON.stringify({ sentences: [{ text: 'You could save €987,654.32 today.', fact_ids: facts.map((f) => f.id) }] })
    },
  })
  assert.equal(u.run.model_calls.length, u.run.outputs.alerts.length)
  assert.ok(u.run.steps.some((s) => s.status === 'fallback' && s.detail.startsWith('ungrounded_narrative')))
  assert.ok(u.run.outputs.alerts.every((a) => a.message_source === 'deterministic'))
})

test('the model may call back into the binding; a Promise is a programming error', () => {
  const r = run('anomaly_detector', {
    model: (json) => {
      assert.equal(lic.authorize(OPERATOR, 'view.alerts').allowed, true)
      return JSON.stringify(grounded(JSON.parse(json)))
    },
  })
  assert.ok(r.run.outputs.alerts.every((a) => a.message_source === 'model'))
  assert.throws(
    () => run('anomaly_detector', { model: async () => '{}' }),
    (e) => e.code === 'invalid_argument' && /Promise/.test(e.message)
  )
})

test('refusals are failed runs, not errors; bad arguments are coded errors', () => {
  const refused = lic.runAgent({ agent: 'truth_builder', actor: VIEWER, at: AT, inputs: truthInputs() })
  assert.equal(refused.run.status, 'failed')
  assert.equal(refused.run.error, 'delegator_lacks_action')
  assert.deepStrictEqual(refused.run.outputs, {})
  assert.equal(refused.auditEntry.details.error, 'delegator_lacks_action')
  const chain = { type: 'agent', agent: 'truth_builder', on_behalf_of: { type: 'agent', agent: 'anomaly_detector', on_behalf_of: OPERATOR } }
  assert.equal(lic.runAgent({ agent: 'truth_builder', actor: chain, at: AT, inputs: truthInputs() }).run.error, 'agent_chain')
  // A policy that narrows the operator is the run's input `policy`.
  const policy = JSON.parse(fs.readFileSync(path.join(ROOT, 'rulesets', 'default', 'policy-v1.json'), 'utf8'))
  policy.access.roles.agent_operator = policy.access.roles.agent_operator.filter((a) => a !== 'view.alerts')
  const narrowed = run('anomaly_detector', { policy })
  assert.equal(narrowed.run.error, 'delegator_lacks_action')
  assert.deepStrictEqual(lic.replayAgent(narrowed, narrowed.inputs, { policy }).ok, true)
  const code = (options, c) => assert.throws(() => lic.runAgent(options), (e) => e.code === c)
  code({ agent: 'oracle', actor: OPERATOR, at: AT }, 'unknown_agent')
  code({ agent: 'truth_builder', actor: { type: 'robot' }, at: AT }, 'invalid_actor')
  code({ agent: 'truth_builder', actor: OPERATOR, at: 'now' }, 'invalid_instant')
  code({ agent: 'truth_builder', actor: OPERATOR }, 'invalid_argument')
  code({ agent: 'truth_builder', actor: OPERATOR, at: AT, inputs: { x: 1 } }, 'invalid_argument')
  code({ agent: 'truth_builder', actor: OPERATOR, at: AT, model: 'gpt' }, 'invalid_argument')
  assert.throws(() => lic.runAgent(), (e) => e.code === 'invalid_argument')
})

test('replay refuses other inputs and tampered responses', () => {
  const r = run('anomaly_detector', { model: scripted() })
  const other = { ...r.inputs }
  delete other['history/0001']
  assert.equal(lic.replayAgent(r, other).error.code, 'inputs_mismatch')
  const tampered = structuredClone(r.run)
  tampered.model_calls[0].response = JSON.stringify({ sentences: [{ text: 'Nothing.', fact_ids: [] }] })
  assert.deepStrictEqual(lic.replayAgent(tampered, r.inputs).error.code, 'replay_mismatch')
  // The bare run and its JSON text replay too.
  assert.equal(lic.replayAgent(JSON.stringify(r.run), r.inputs).ok, true)
  assert.equal(lic.replayAgent({ run: { agent: 'anomaly_detector' } }, r.inputs).error.code, 'invalid_run')
  assert.throws(() => lic.replayAgent('nonsense', r.inputs), (e) => e.code === 'invalid_argument')
})

test('runAgent with ScriptedModel is the CLI\'s `agent run --responses`, and replays its record', (t) => {
  const cli = findCli()
  if (!cli || !fs.existsSync(cli)) {
    t.skip('no eucora-license binary: cargo build -p eucora-license-cli or set EUCORA_LICENSE_CLI')
    return
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eucora-agent-'))
  try {
    fs.writeFileSync(path.join(dir, 'actor.json'), JSON.stringify(OPERATOR))
    fs.writeFileSync(path.join(dir, 'responses.json'), JSON.stringify(SCRIPT))
    const args = ['agent', 'run', 'consumption_discovery', '--actor', path.join(dir, 'actor.json'), '--at', AT]
    args.push('--correlation-id', 'corr-1', '--responses', path.join(dir, 'responses.json'), '--model-id', 'demo-model')
    args.push(`exports=${path.join(DEMO, 'imports')}`, `bundle.json=${path.join(DEMO, 'bundle.json')}`)
    args.push(`ruleset=${path.join(DEMO, 'ruleset.json')}`, `catalog=${path.join(DEMO, 'catalog.json')}`)
    const r = spawnSync(cli, args, { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const fromCli = JSON.parse(r.stdout)
    const node = run('consumption_discovery', { model: new ScriptedModel(SCRIPT), modelId: 'demo-model' })
    assert.deepStrictEqual({ run: node.run, audit_entry: node.auditEntry }, fromCli)
    assert.deepStrictEqual(lic.replayAgent(fromCli, node.inputs), { ok: true, run_id: node.run.run_id, outputs: node.run.outputs })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
