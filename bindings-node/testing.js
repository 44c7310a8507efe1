'use strict'
// A scripted model for tests and demos (DESIGN D4, issue 13 item 3): it
// answers an agent's model requests from a script and never reaches a
// network. The same behaviour as Rust's `eucora_license_agents::ScriptedModel`
// and Python's `eucora_license.testing.ScriptedModel`:
//
//   const { ScriptedModel } = require('@eucora/license/testing')
//   const model = new ScriptedModel({ consumption_discovery: { mapping: { sku: 'autocad' } } })
//   lic.runAgent({ agent: 'consumption_discovery', actor, at, inputs, model })
//
// A script maps agent -> purpose -> reply, or a list of replies consumed in
// order (the last one then repeated); a reply that is not a string is sent
// as its JSON text; a request with no reply makes the call fail (a failed
// step, `model_call_failed`). Or a function `(request) => reply` receiving
// the parsed request `{agent, purpose, system, prompt, response_schema}`;
// what it throws fails the call.

class ScriptedModel {
  /**
   * @param {object | ((request: object) => unknown)} script
   * @param {{id?: string}} [options] the model id recorded in each call (default `scripted`)
   */
  constructor(script, options = {}) {
    const isFunction = typeof script === 'function'
    if (!isFunction && (script === null || typeof script !== 'object' || Array.isArray(script))) {
      throw new TypeError('ScriptedModel needs {agent: {purpose: reply | [replies]}} or a function')
    }
    if (!isFunction) {
      for (const [agent, perPurpose] of Object.entries(script)) {
        if (perPurpose === null || typeof perPurpose !== 'object' || Array.isArray(perPurpose)) {
          throw new TypeError(`ScriptedModel: the replies of \`${agent}\` must be {purpose: reply | [replies]}`)
        }
      }
    }
    this.id = options.id ?? 'scripted'
    /** Every request received, parsed, in order (what a test inspects). */
    this.requests = []
    this._script = script
    this._used = new Map()
    // Bound, so `model.call` also works detached.
    this.call = this.call.bind(this)
  }

  /**
   * Answer one request (its JSON text) with the scripted reply's text.
   * @param {string} requestJson
   * @returns {string}
   */
  call(requestJson) {
    const request = JSON.parse(requestJson)
    this.requests.push(request)
    const text = (reply) => (typeof reply === 'string' ? reply : JSON.stringify(reply))
    if (typeof this._script === 'function') return text(this._script(request))
    const perAgent = Object.hasOwn(this._script, request.agent) ? this._script[request.agent] : undefined
    if (!perAgent || !Object.hasOwn(perAgent, request.purpose)) {
      throw new Error(`no scripted reply for ${request.agent}/${request.purpose}`)
    }
    const replies = Array.isArray(perAgent[request.purpose]) ? perAgent[request.purpose] : [perAgent[request.purpose]]
    if (replies.length === 0) throw new Error('empty reply list')
    const key = `${request.agent}\u0000${request.purpose}`
    const n = this._used.get(key) ?? 0
    this._used.set(key, n + 1)
    return text(replies[Math.min(n, replies.length - 1)])
  }
}

module.exports = { ScriptedModel }
