'use strict'
// Shared by the tests that compare the binding's documents with the CLI's.
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..', '..')

/** The `eucora-license` binary: $EUCORA_LICENSE_CLI, else the cargo target directories. */
function findCli() {
  if (process.env.EUCORA_LICENSE_CLI) return process.env.EUCORA_LICENSE_CLI
  const targets = [process.env.CARGO_TARGET_DIR, path.join(ROOT, 'target')].filter(Boolean)
  for (const t of targets) {
    for (const profile of ['debug', 'release']) {
      const p = path.resolve(ROOT, t, profile, 'eucora-license')
      if (fs.existsSync(p)) return p
    }
  }
  return undefined
}

module.exports = { findCli }
