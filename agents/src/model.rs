//! The model seen from Rust: a trait object, a scripted model shipped for
//! tests and demos, and the generic runner that drives a machine.

use crate::machine::{AgentMachine, AgentRun, ModelRequest, Step};
use serde_json::Value;
use std::collections::BTreeMap;

/// A model the host provides: JSON text in (the request), text out. An
/// `Err` is a call that raised or timed out (`model_call_failed`).
pub trait Model {
    /// The model id the host declares (recorded in each call).
    fn id(&self) -> String;
    /// Answer one request.
    fn call(&mut self, request: &ModelRequest) -> Result<String, String>;
}

type Reply = Box<dyn FnMut(&ModelRequest) -> Result<String, String>>;

/// A model that never reaches a network: replies by `(agent, purpose)`
/// from a map (a list per key is consumed in order, its last reply then
/// repeated; a missing key fails the call), or by a closure.
pub struct ScriptedModel {
    id: String,
    replies: BTreeMap<(String, String), Vec<String>>,
    used: BTreeMap<(String, String), usize>,
    func: Option<Reply>,
}

impl ScriptedModel {
    /// From a JSON map `{"<agent>": {"<purpose>": reply | [replies]}}`; a
    /// reply that is not a string is sent as its JSON text.
    pub fn from_map(id: &str, map: &Value) -> Result<ScriptedModel, crate::Error> {
        let bad = || crate::Error::new("invalid_responses", "expected {agent: {purpose: reply or [replies]}}");
        let mut replies = BTreeMap::new();
        for (agent, per) in map.as_object().ok_or_else(bad)? {
            for (purpose, r) in per.as_object().ok_or_else(bad)? {
                let list: Vec<&Value> = match r {
                    Value::Array(a) => a.iter().collect(),
                    one => vec![one],
                };
                let texts = list.into_iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect();
                replies.insert((agent.clone(), purpose.clone()), texts);
            }
        }
        Ok(ScriptedModel { id: id.to_string(), replies, used: BTreeMap::new(), func: None })
    }

    /// From a closure.
    pub fn from_fn(id: &str, f: impl FnMut(&ModelRequest) -> Result<String, String> + 'static) -> ScriptedModel {
        ScriptedModel { id: id.to_string(), replies: BTreeMap::new(), used: BTreeMap::new(), func: Some(Box::new(f)) }
    }
}

impl Model for ScriptedModel {
    fn id(&self) -> String {
        self.id.clone()
    }

    fn call(&mut self, request: &ModelRequest) -> Result<String, String> {
        if let Some(f) = self.func.as_mut() {
            return f(request);
        }
        let key = (request.agent.name().to_string(), request.purpose.clone());
        let list = self.replies.get(&key).ok_or_else(|| format!("no scripted reply for {}/{}", key.0, key.1))?;
        let n = self.used.entry(key).or_insert(0);
        let text = list.get(*n).or(list.last()).cloned().ok_or_else(|| "empty reply list".to_string())?;
        *n += 1;
        Ok(text)
    }
}

/// Drive `machine` to the end. With `None` the machine must have been made
/// without a model id (it then never asks); a request reaching a runner
/// without a model is answered as a failed call.
pub fn run(machine: &mut AgentMachine, mut model: Option<&mut dyn Model>) -> AgentRun {
    loop {
        match machine.step() {
            Step::Done(run) => return run,
            Step::Request(req) => {
                let answer = match model.as_deref_mut() {
                    Some(m) => m.call(&req),
                    None => Err("no model".to_string()),
                };
                // A request is pending, so neither call can fail.
                let _ = match answer {
                    Ok(text) => machine.complete(&text),
                    Err(reason) => machine.fail(&reason),
                };
            }
        }
    }
}
