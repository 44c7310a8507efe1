//! The agents of DESIGN D4: `runAgent` drives the sans-IO machine of
//! `eucora-license-agents`, calling the host's JavaScript model between
//! steps, and `replayAgent` re-runs a recorded run without any model.
//!
//! The runner is synchronous: the model function is called on the
//! JavaScript thread while no Rust state is borrowed (the machine only
//! hands out a request and later takes its answer), so the model may call
//! back into this binding. A model that throws, or returns something other
//! than a string, is a failed call (`model_call_failed`, recorded; its
//! error text is not): the step fails, the run goes on, Node never sees a
//! crash. A returned Promise is a programming error (the runner cannot
//! wait) and throws `invalid_argument`.

use crate::boundary::{guard, Failure, NResult};
use crate::convert::{binary, json_arg, option, string_arg, type_name};
use crate::governance::json_value;
use eucora_license_agents::{replay, AgentMachine, Inputs, Step};
use eucora_license_core::{canonical_bytes, AgentName};
use napi::bindgen_prelude::*;
use napi::{Env, ValueType};
use napi_derive::napi;
use serde_json::{json, Value};

/// The model id recorded when the host names none and its model has no
/// `id`: a plain JavaScript function.
const DEFAULT_MODEL_ID: &str = "js";

/// `inputs`: an object mapping input names to Buffer, Uint8Array or text.
fn inputs_arg(v: Option<Unknown<'_>>) -> NResult<Inputs> {
    let mut out = Inputs::new();
    let Some(v) = v else { return Ok(out) };
    if v.get_type()? != ValueType::Object || v.is_array()? || binary(&v)?.is_some() {
        return Err(Failure::arg(format!("`inputs` must be an object mapping input names to Buffers or strings, got {}", type_name(&v))));
    }
    // SAFETY: the type was checked.
    let obj: Object = unsafe { v.cast() }?;
    for name in Object::keys(&obj)? {
        let value: Unknown = obj.get_named_property(&name)?;
        let bytes = match binary(&value)? {
            Some(b) => b,
            None if value.get_type()? == ValueType::String => string_arg(&value, &name)?.into_bytes(),
            None => {
                return Err(Failure::arg(format!("input `{name}` must be a Buffer, a Uint8Array or a string, got {}", type_name(&value))))
            }
        };
        out.insert(name, bytes);
    }
    Ok(out)
}

/// `options.policy` (text, Buffer or object) becomes the input `policy`,
/// as the CLI's `--policy` does.
fn add_policy(env: &Env, options: Option<&Unknown<'_>>, inputs: &mut Inputs) -> NResult<()> {
    if let Some(p) = option(options, "policy")? {
        inputs.insert("policy".into(), json_arg(env, &p, "policy")?);
    }
    Ok(())
}

fn text_option(options: Option<&Unknown<'_>>, key: &str) -> NResult<Option<String>> {
    option(options, key)?.map(|v| string_arg(&v, key)).transpose()
}

/// The model as a callable: a function, or an object with a `call` method
/// (bound to it) and an optional `id` (e.g. the shipped `ScriptedModel`).
fn model_fn<'env>(model: &Unknown<'env>) -> NResult<(Function<'env, String, Unknown<'env>>, Option<String>)> {
    match model.get_type()? {
        ValueType::Function => Ok((Function::from_unknown(*model)?, None)),
        ValueType::Object => {
            // SAFETY: the type was checked.
            let obj: Object<'env> = unsafe { model.cast() }?;
            let call: Unknown<'env> = obj.get_named_property("call")?;
            if call.get_type()? != ValueType::Function {
                return Err(Failure::arg("`model` must be a function or an object with a `call` method"));
            }
            let f: Function<'env, String, Unknown<'env>> = Function::from_unknown(call)?;
            let raw = f.bind(obj)?.value();
            // SAFETY: `raw` is a function value (what `bind` returns) of the
            // same handle scope as `model`, which outlives the run.
            let bound: Function<'env, String, Unknown<'env>> = unsafe { Function::from_napi_value(raw.env, raw.value) }?;
            let id: Unknown = obj.get_named_property("id")?;
            let id = if id.get_type()? == ValueType::String { Some(string_arg(&id, "model.id")?) } else { None };
            Ok((bound, id))
        }
        _ => Err(Failure::arg(format!("`model` must be a function or an object with a `call` method, got {}", type_name(model)))),
    }
}

/// Ask the model: `Ok(Some(text))`, `Ok(None)` for a failed call (it threw
/// or returned something else than a string), an error for a Promise.
fn ask(f: &Function<'_, String, Unknown<'_>>, request: String) -> NResult<Option<String>> {
    let Ok(answer) = f.call(request) else { return Ok(None) };
    match answer.get_type()? {
        ValueType::String => Ok(Some(string_arg(&answer, "the model's answer")?)),
        ValueType::Object if answer.is_promise()? => {
            Err(Failure::arg("the model returned a Promise: runAgent is synchronous, the model must return the text"))
        }
        _ => Ok(None),
    }
}

/// Run one agent (DESIGN D4) to the end: `{run, auditEntry}`, the run
/// record and its audit entry (ready for `auditAppend`). `options`:
/// `agent` (one of the five), `actor` (the agent actor or the delegating
/// user), `at` (RFC 3339, the run's start), `inputs` ({name: Buffer |
/// string}, names as in docs/agents.md), `model` (a function
/// `(requestJson) => string`, or an object with `call` and `id` such as
/// `ScriptedModel` from `@eucora/license/testing`; absent: the
/// deterministic path, no model at all), `modelId`, `correlationId`,
/// `policy` (the input `policy`). A refusal is a `failed` run, not an
/// error; a bad actor or instant throws (`invalid_actor`,
/// `invalid_instant`), an unknown agent `unknown_agent`.
#[napi(catch_unwind, ts_args_type = "options: RunAgentOptions", ts_return_type = "AgentRunResult")]
pub fn run_agent(env: Env, options: Unknown<'_>) -> napi::Result<Value> {
    guard(&env, || {
        let o = Some(&options);
        if !matches!(options.get_type()?, ValueType::Object) || options.is_array()? {
            return Err(Failure::arg(format!("runAgent takes an options object, got {}", type_name(&options))));
        }
        let need = |key: &str| option(o, key)?.ok_or_else(|| Failure::arg(format!("runAgent needs `{key}`")));
        let name = string_arg(&need("agent")?, "agent")?;
        let agent = AgentName::from_name(&name).ok_or_else(|| Failure::new("unknown_agent", "no such agent"))?;
        let actor = json_value(&env, &need("actor")?, "actor")?;
        let at = string_arg(&need("at")?, "at")?;
        let mut inputs = inputs_arg(option(o, "inputs")?)?;
        add_policy(&env, o, &mut inputs)?;
        let correlation = text_option(o, "correlationId")?;
        let model = match option(o, "model")? {
            Some(m) => Some(model_fn(&m)?),
            None => None,
        };
        let model_id = match (&model, text_option(o, "modelId")?) {
            (None, _) => None,
            (Some(_), Some(id)) => Some(id),
            (Some((_, id)), None) => Some(id.clone().unwrap_or_else(|| DEFAULT_MODEL_ID.to_string())),
        };
        let mut m = AgentMachine::new(agent, &actor, &at, correlation.as_deref(), inputs, model_id.as_deref())?;
        loop {
            match m.step() {
                Step::Done(run) => return Ok(json!({"run": run.to_value(), "auditEntry": run.audit_entry()})),
                Step::Request(req) => {
                    let text = canonical_bytes(&req.to_value()).map_err(|e| Failure::new("internal", e.to_string()))?;
                    let text = String::from_utf8(text).map_err(|_| Failure::new("internal", "request is not UTF-8"))?;
                    let answer = match &model {
                        Some((f, _)) => ask(f, text)?,
                        None => None,
                    };
                    match answer {
                        Some(t) => m.complete(&t)?,
                        None => m.fail("the model call failed")?,
                    }
                }
            }
        }
    })
}

/// Re-run a recorded run over the same inputs with its recorded responses,
/// calling no model (DESIGN D4): `{ok: true, run_id, outputs}` when the
/// outputs are reproduced byte for byte, else `{ok: false, error: {code,
/// message}}` (`inputs_mismatch`, `replay_mismatch`, `invalid_run`) — the
/// CLI's `agent replay` document. `run` is `runAgent`'s result, the CLI's
/// `{run, audit_entry}` or a bare run (object or text); `options.policy`
/// is the input `policy`, as for `runAgent`.
#[napi(
    catch_unwind,
    ts_args_type = "run: AgentRunResult | AgentRun | string, inputs: Record<string, Uint8Array | string>, options?: { policy?: string | Uint8Array | object }",
    ts_return_type = "ReplayResult"
)]
pub fn replay_agent(env: Env, run: Unknown<'_>, inputs: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    guard(&env, || {
        // `{run, ...}` (runAgent's result, whatever else the host keeps in
        // it, or the CLI's output): only its `run` is read.
        let inner = match option(Some(&run), "run") {
            Ok(Some(r)) if binary(&run)?.is_none() => Some(r),
            _ => None,
        };
        let doc = json_value(&env, inner.as_ref().unwrap_or(&run), "run")?;
        let rec = if doc.get("run").is_some() { doc["run"].clone() } else { doc };
        let mut ins = inputs_arg(Some(inputs))?;
        add_policy(&env, options.as_ref(), &mut ins)?;
        Ok(match replay(&rec, &ins) {
            Ok(r) => json!({"ok": true, "run_id": r.run_id, "outputs": r.outputs}),
            Err(e) => json!({"ok": false, "error": {"code": e.code, "message": e.message}}),
        })
    })
}
