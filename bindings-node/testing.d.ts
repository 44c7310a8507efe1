// `@eucora/license/testing`: the scripted model (see testing.js).
import type { ModelRequest } from './index'

/** agent -> purpose -> a reply or a list of replies (consumed in order, the last repeated). */
export type Script = Record<string, Record<string, unknown>>

/** A model that answers from a script and never reaches a network. */
export declare class ScriptedModel {
  constructor(script: Script | ((request: ModelRequest) => unknown), options?: { id?: string })
  /** The model id recorded in each call (default `scripted`). */
  readonly id: string
  /** Every request received, parsed, in order. */
  readonly requests: Array<ModelRequest>
  /** Answer one request (its JSON text); throws when the script has no reply (a failed call). */
  call(requestJson: string): string
}
