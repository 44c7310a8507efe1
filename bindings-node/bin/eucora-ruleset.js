#!/usr/bin/env node
'use strict'
// eucora-ruleset: check, hash and compare EUCORA rulesets (and check and hash
// policies) from build scripts. Every rule is the engine's (validateRuleset /
// hashRuleset / diffRulesets / validatePolicy of @eucora/license); this file
// only finds files and prints results.

const fs = require('fs')
const path = require('path')

const USAGE = `usage: eucora-ruleset check [--json] [--catalog <catalog.json>] <file|glob>...
       eucora-ruleset hash <file>
       eucora-ruleset diff [--json] <old> <new>

check   validates every ruleset named (globs: * ? and ** are expanded here, so
        quote them to keep the shell from doing it). Files whose $schema is a
        JSON Schema meta-schema (json-schema.org) are schemas, not rulesets, and
        are skipped. A policy document (one with a top-level "alerts",
        "advisor", "access", "approvals" or "agents" key, e.g.
        rulesets/default/policy-v1.json) is validated as a policy. With --catalog, every sku_mappings rule must name a SKU of
        that catalog. Each problem is printed as
          <file>:<json path>: <code> <message>
        --json prints one JSON document instead.
hash    prints the ruleset's eucora.ruleset.v1 hash (sha256:<hex>), or a
        policy's eucora.policy.v1 hash.
diff    prints which rules changed, one sentence per change.

Exit status: 0 success, 1 an invalid or unreadable ruleset, 2 usage error
(including a pattern that matches no file).`

class UsageError extends Error {}

function loadBinding() {
  return require('..')
}

// ------------------------------------------------------------------ globs

const GLOB_CHARS = /[*?[]/

function segmentRegExp(segment) {
  let re = ''
  for (const ch of segment) {
    if (ch === '*') re += '[^/]*'
    else if (ch === '?') re += '[^/]'
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

function listDir(dir) {
  try {
    return fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
}

// Expand one pattern relative to the working directory: `*` and `?` within a
// path segment, `**` for any number of directories. Names starting with a dot
// match only a pattern segment that starts with one; `**` never enters
// node_modules or dot-directories.
function expand(pattern) {
  const absolute = path.isAbsolute(pattern)
  const parts = pattern.split(/[\\/]+/).filter((p, i) => p !== '' || i === 0)
  const start = absolute ? path.parse(pattern).root : '.'
  const results = new Set()
  const walk = (dir, i) => {
    if (i === parts.length) {
      if (fs.existsSync(dir) && fs.statSync(dir).isFile()) results.add(path.normalize(dir))
      return
    }
    const part = parts[i]
    if (part === '' && i === 0) return walk(start, 1)
    if (part === '**') {
      walk(dir, i + 1)
      for (const e of listDir(dir)) {
        if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') walk(path.join(dir, e.name), i)
      }
      return
    }
    if (!GLOB_CHARS.test(part)) return walk(path.join(dir, part), i + 1)
    const re = segmentRegExp(part)
    for (const e of listDir(dir)) {
      if (e.name.startsWith('.') && !part.startsWith('.')) continue
      if (re.test(e.name)) walk(path.join(dir, e.name), i + 1)
    }
  }
  walk(absolute ? start : '.', absolute ? 1 : 0)
  return [...results].sort()
}

function filesOf(args) {
  const files = new Set()
  for (const arg of args) {
    if (GLOB_CHARS.test(arg)) {
      const matched = expand(arg)
      if (matched.length === 0) throw new UsageError(`no file matches ${arg}`)
      matched.forEach((f) => files.add(f))
    } else {
      files.add(path.normalize(arg))
    }
  }
  return [...files]
}

// ------------------------------------------------------------------ commands

function readBytes(file) {
  try {
    return { bytes: fs.readFileSync(file) }
  } catch (e) {
    return { error: { path: '$', code: 'unreadable', message: `cannot read the file (${e.code || e.message})` } }
  }
}

function isJsonSchema(bytes) {
  try {
    const doc = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''))
    const s = doc && typeof doc === 'object' && !Array.isArray(doc) ? doc.$schema : undefined
    return typeof s === 'string' && /^https?:\/\/json-schema\.org\//.test(s)
  } catch {
    return false
  }
}

const POLICY_KEYS = ['alerts', 'advisor', 'access', 'approvals', 'agents']

// A policy document: a JSON object with one of the policy's own sections.
function isPolicy(bytes) {
  try {
    const doc = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''))
    return !!doc && typeof doc === 'object' && !Array.isArray(doc) && POLICY_KEYS.some((k) => k in doc)
  } catch {
    return false
  }
}

function plural(n, word) {
  if (n === 1) return `1 ${word}`
  return `${n} ${word === 'policy' ? 'policies' : `${word}s`}`
}

function catalogSkuIds(file) {
  let doc
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (e) {
    throw new UsageError(`--catalog ${file}: ${e.code ? `cannot read it (${e.code})` : 'not JSON'}`)
  }
  if (!doc || !Array.isArray(doc.skus)) throw new UsageError(`--catalog ${file}: no "skus" array`)
  return doc.skus.map((s) => (s && typeof s.id === 'string' ? s.id : '')).filter(Boolean)
}

function check(args, out) {
  let json = false
  let catalog
  const patterns = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === '--json') json = true
    else if (a === '--catalog') {
      catalog = args[++i]
      if (!catalog) throw new UsageError('--catalog needs a file')
    } else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`)
    else patterns.push(a)
  }
  if (patterns.length === 0) throw new UsageError('check needs at least one file or glob')
  const skuIds = catalog === undefined ? undefined : catalogSkuIds(catalog)
  const files = filesOf(patterns)
  const { validateRuleset, validatePolicy } = loadBinding()
  const results = files.map((file) => {
    const read = readBytes(file)
    if (read.error) return { file, status: 'invalid', errors: [read.error] }
    if (isJsonSchema(read.bytes)) return { file, status: 'skipped', reason: 'a JSON Schema document, not a ruleset' }
    const policy = isPolicy(read.bytes)
    const r = policy ? validatePolicy(read.bytes) : validateRuleset(read.bytes, skuIds === undefined ? undefined : { skuIds })
    const kind = policy ? { kind: 'policy' } : {}
    return r.ok
      ? { file, ...kind, status: 'valid', id: r.id, version: r.version, hash: r.hash, errors: [] }
      : { file, ...kind, status: 'invalid', errors: r.errors }
  })
  const invalid = results.filter((r) => r.status === 'invalid')
  const valid = results.filter((r) => r.status === 'valid')
  const policies = results.filter((r) => r.kind === 'policy' && r.status !== 'skipped').length
  if (json) {
    out.stdout(JSON.stringify({ ok: invalid.length === 0, files: results }, null, 2) + '\n')
  } else {
    for (const r of results) {
      if (r.status === 'valid') out.stdout(`ok      ${r.file}  (${r.id} v${r.version}, ${r.hash})\n`)
      else if (r.status === 'skipped') out.stdout(`skipped ${r.file}  (${r.reason})\n`)
      else for (const e of r.errors) out.stdout(`${r.file}:${e.path}: ${e.code} ${e.message}\n`)
    }
    const problems = invalid.reduce((n, r) => n + r.errors.length, 0)
    const checked = invalid.length + valid.length
    // Without policies the summary names rulesets only, as it always did.
    const parts = []
    if (checked - policies > 0 || policies === 0) parts.push(plural(checked - policies, 'ruleset'))
    if (policies > 0) parts.push(plural(policies, 'policy'))
    const what = parts.join(' and ')
    out.stdout(
      invalid.length === 0
        ? `${policies === 0 ? plural(valid.length, 'ruleset') : what} valid\n`
        : `${invalid.length} of ${what} invalid (${problems} problem${problems === 1 ? '' : 's'})\n`,
    )
  }
  return invalid.length === 0 ? 0 : 1
}

function readRuleset(file, out) {
  const read = readBytes(file)
  if (read.error) {
    out.stderr(`${file}:${read.error.path}: ${read.error.code} ${read.error.message}\n`)
    return null
  }
  const r = loadBinding().validateRuleset(read.bytes)
  if (!r.ok) {
    for (const e of r.errors) out.stderr(`${file}:${e.path}: ${e.code} ${e.message}\n`)
    return null
  }
  return read.bytes
}

function hash(args, out) {
  if (args.length !== 1 || args[0].startsWith('--')) throw new UsageError('hash needs exactly one file')
  const read = readBytes(args[0])
  if (!read.error && isPolicy(read.bytes)) {
    const r = loadBinding().validatePolicy(read.bytes)
    if (!r.ok) {
      for (const e of r.errors) out.stderr(`${args[0]}:${e.path}: ${e.code} ${e.message}\n`)
      return 1
    }
    out.stdout(r.hash + '\n')
    return 0
  }
  const bytes = readRuleset(args[0], out)
  if (!bytes) return 1
  out.stdout(loadBinding().hashRuleset(bytes) + '\n')
  return 0
}

function diff(args, out) {
  const json = args.includes('--json')
  const files = args.filter((a) => a !== '--json')
  const unknown = files.find((a) => a.startsWith('--'))
  if (unknown) throw new UsageError(`unknown option ${unknown}`)
  if (files.length !== 2) throw new UsageError('diff needs <old> <new>')
  const a = readRuleset(files[0], out)
  const b = readRuleset(files[1], out)
  if (!a || !b) return 1
  const d = loadBinding().diffRulesets(a, b)
  out.stdout(json ? JSON.stringify(d, null, 2) + '\n' : d.text)
  return 0
}

function main(argv, out) {
  const [command, ...args] = argv
  try {
    switch (command) {
      case 'check':
        return check(args, out)
      case 'hash':
        return hash(args, out)
      case 'diff':
        return diff(args, out)
      case '--version':
      case '-V':
        out.stdout(`eucora-ruleset ${loadBinding().version()}\n`)
        return 0
      case '--help':
      case '-h':
      case 'help':
        out.stdout(USAGE + '\n')
        return 0
      default:
        throw new UsageError(command === undefined ? 'no command given' : `unknown command ${command}`)
    }
  } catch (e) {
    if (e instanceof UsageError) {
      out.stderr(`eucora-ruleset: ${e.message}\n\n${USAGE}\n`)
      return 2
    }
    out.stderr(`eucora-ruleset: ${e.code ? `${e.code}: ` : ''}${e.message}\n`)
    return 1
  }
}

module.exports = { main, expand }

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  })
}
