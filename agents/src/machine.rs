//! The state machine, the run record and replay (D4).

use crate::agents;
use crate::Error;
use eucora_license_core::internal::hash::sha256;
use eucora_license_core::{canonical_bytes, tagged_hash, AgentName, Domain, Instant};
use eucora_license_governance::{Actor, Policy};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The inputs of a run: named byte strings (`bundle/<path>`, `previous`,
/// `history/<n>`, `pack`, `policy`, `exports/<adapter>/<path>`, ...; each
/// agent's names are in docs/agents.md). Hashed as a sorted map of
/// SHA-256 digests, so the run record names its inputs without holding them.
pub type Inputs = BTreeMap<String, Vec<u8>>;

/// A request to the host's model: `{agent, purpose, system, prompt,
/// response_schema}` (`response_schema` null when free text is wanted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRequest {
    /// The agent asking.
    pub agent: AgentName,
    /// What for (`narrative`, `mapping`, `contract`).
    pub purpose: String,
    /// System text.
    pub system: String,
    /// Prompt text (JSON facts, the previous validation errors on a re-ask).
    pub prompt: String,
    /// JSON Schema of the answer, or null.
    pub response_schema: Value,
}

impl ModelRequest {
    /// The request as JSON.
    pub fn to_value(&self) -> Value {
        json!({"agent": self.agent, "purpose": self.purpose, "system": self.system, "prompt": self.prompt,
               "response_schema": self.response_schema})
    }

    fn from_value(v: &Value) -> Result<ModelRequest, Error> {
        let s = |k: &str| {
            v.get(k).and_then(Value::as_str).map(str::to_string).ok_or_else(|| Error::new("invalid_run", format!("request `{k}`")))
        };
        let agent = AgentName::from_name(&s("agent")?).ok_or_else(|| Error::new("invalid_run", "request `agent`"))?;
        Ok(ModelRequest {
            agent,
            purpose: s("purpose")?,
            system: s("system")?,
            prompt: s("prompt")?,
            response_schema: v.get("response_schema").cloned().unwrap_or(Value::Null),
        })
    }
}

/// One recorded model call: the request and its hash, the response text
/// (null when the call failed) and its hash, the host's model id, and
/// `error` (`model_call_failed`, or null). The host's failure text is not
/// kept: it may hold anything, secrets included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCall {
    /// The request.
    pub request: ModelRequest,
    /// `sha256:` of the request's canonical JSON.
    pub request_hash: String,
    /// The answer, or `None` when the call failed.
    pub response: Option<String>,
    /// `sha256:` of the answer's UTF-8 bytes.
    pub response_hash: Option<String>,
    /// The model id the host declared.
    pub model_id: String,
}

impl ModelCall {
    fn to_value(&self) -> Value {
        json!({"request": self.request.to_value(), "request_hash": self.request_hash, "response": self.response,
               "response_hash": self.response_hash, "model_id": self.model_id,
               "error": if self.response.is_none() { Value::from("model_call_failed") } else { Value::Null }})
    }
}

/// One step of a run: `{step, status: ok|failed|fallback|skipped, detail}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStep {
    /// Step name.
    pub step: String,
    /// `ok`, `failed`, `fallback` (a guardrail chose the deterministic
    /// path) or `skipped` (no model).
    pub status: &'static str,
    /// Reason code or short detail.
    pub detail: String,
}

/// The finished run (D4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRun {
    /// `eucora.agent_run.v1` hash of canonical `{agent, actor,
    /// correlation_id, started_at, inputs_hash}`.
    pub run_id: String,
    /// The agent.
    pub agent: AgentName,
    /// The acting agent actor, as given.
    pub actor: Value,
    /// The host's correlation id.
    pub correlation_id: Option<String>,
    /// Given by the host (UTC, RFC 3339).
    pub started_at: String,
    /// `sha256:` of the canonical `{name: sha256 of bytes}` map.
    pub inputs_hash: String,
    /// Model calls in order.
    pub model_calls: Vec<ModelCall>,
    /// Steps in order.
    pub steps: Vec<RunStep>,
    /// What the agent produced (never final: proposals wait for approval).
    pub outputs: Value,
    /// `ok` or `failed`.
    pub status: &'static str,
    /// The reason code when failed.
    pub error: Option<String>,
}

impl AgentRun {
    /// The run record as JSON.
    pub fn to_value(&self) -> Value {
        json!({
            "run_id": self.run_id, "agent": self.agent, "actor": self.actor, "correlation_id": self.correlation_id,
            "started_at": self.started_at, "inputs_hash": self.inputs_hash,
            "model_calls": self.model_calls.iter().map(ModelCall::to_value).collect::<Vec<_>>(),
            "steps": self.steps.iter().map(|s| json!({"step": s.step, "status": s.status, "detail": s.detail})).collect::<Vec<_>>(),
            "outputs": self.outputs, "status": self.status, "error": self.error,
        })
    }

    /// Canonical bytes of [`AgentRun::outputs`] (what replay compares).
    pub fn outputs_bytes(&self) -> Vec<u8> {
        canonical_bytes(&self.outputs).unwrap_or_default()
    }

    /// The run's D3 audit entry, ready for `governance::append` (which fills
    /// `seq`, `prev_hash`, `entry_hash`): action `agent.run`, entity
    /// `{type: "agent_run", id: run_id}`, `after_hash` the SHA-256 of the
    /// canonical outputs; `details` holds only names, hashes and codes.
    pub fn audit_entry(&self) -> Value {
        json!({
            "at": self.started_at, "actor": self.actor, "action": "agent.run",
            "entity": {"type": "agent_run", "id": self.run_id},
            "before_hash": Value::Null, "after_hash": sha256(&self.outputs_bytes()).to_prefixed(),
            "correlation_id": self.correlation_id, "evidence": [self.inputs_hash],
            "details": {"agent": self.agent, "status": self.status, "error": self.error, "inputs_hash": self.inputs_hash,
                        "model_calls": self.model_calls.len()},
        })
    }

    /// Parse a run record (for [`replay`]).
    pub fn from_value(v: &Value) -> Result<AgentRun, Error> {
        let bad = |m: &str| Error::new("invalid_run", m.to_string());
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string).ok_or_else(|| bad(k));
        let agent = AgentName::from_name(&s("agent")?).ok_or_else(|| bad("agent"))?;
        let mut calls = Vec::new();
        for c in v.get("model_calls").and_then(Value::as_array).ok_or_else(|| bad("model_calls"))? {
            calls.push(ModelCall {
                request: ModelRequest::from_value(c.get("request").unwrap_or(&Value::Null))?,
                request_hash: c.get("request_hash").and_then(Value::as_str).unwrap_or_default().to_string(),
                response: c.get("response").and_then(Value::as_str).map(str::to_string),
                response_hash: c.get("response_hash").and_then(Value::as_str).map(str::to_string),
                model_id: c.get("model_id").and_then(Value::as_str).unwrap_or_default().to_string(),
            });
        }
        let status = if s("status")? == "ok" { "ok" } else { "failed" };
        Ok(AgentRun {
            run_id: s("run_id")?,
            agent,
            actor: v.get("actor").cloned().ok_or_else(|| bad("actor"))?,
            correlation_id: v.get("correlation_id").and_then(Value::as_str).map(str::to_string),
            started_at: s("started_at")?,
            inputs_hash: s("inputs_hash")?,
            model_calls: calls,
            steps: Vec::new(),
            outputs: v.get("outputs").cloned().unwrap_or(Value::Null),
            status,
            error: v.get("error").and_then(Value::as_str).map(str::to_string),
        })
    }
}

/// What `step()` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Ask the model; answer with `complete` or `fail`.
    Request(ModelRequest),
    /// The run is finished.
    Done(AgentRun),
}

/// An answer received from the host.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    Text(String),
    Failed,
}

/// Why a pipeline stopped early.
pub(crate) enum Flow {
    /// A question not answered yet.
    Pending(ModelRequest),
    /// The run fails with this reason code.
    Failed(String),
}

/// What a pipeline sees: its inputs, the governance policy, the answers so
/// far; it records steps and outputs.
pub(crate) struct Ctx<'a> {
    pub(crate) agent: AgentName,
    pub(crate) actor: &'a Actor,
    pub(crate) started_at: Instant,
    pub(crate) correlation_id: Option<&'a str>,
    pub(crate) inputs: &'a Inputs,
    pub(crate) policy: Policy,
    answers: &'a [Answer],
    model: bool,
    pub(crate) asked: Vec<ModelRequest>,
    pub(crate) steps: Vec<RunStep>,
    pub(crate) outputs: Map<String, Value>,
}

impl Ctx<'_> {
    /// Record a step.
    pub(crate) fn step(&mut self, step: &str, status: &'static str, detail: impl Into<String>) {
        self.steps.push(RunStep { step: step.to_string(), status, detail: detail.into() });
    }

    /// Ask the model. `Ok(None)`: no model, or the call failed (recorded
    /// as a failed step, `model_call_failed`).
    pub(crate) fn ask(&mut self, req: ModelRequest) -> Result<Option<String>, Flow> {
        if !self.model {
            self.step(&req.purpose, "skipped", "no_model");
            return Ok(None);
        }
        let i = self.asked.len();
        match self.answers.get(i) {
            None => Err(Flow::Pending(req)),
            Some(a) => {
                let purpose = req.purpose.clone();
                self.asked.push(req);
                match a {
                    Answer::Text(t) => Ok(Some(t.clone())),
                    Answer::Failed => {
                        self.step(&purpose, "failed", "model_call_failed");
                        Ok(None)
                    }
                }
            }
        }
    }

    /// D1 through governance: a refusal is a failed step and fails the run
    /// with the decision's reason.
    pub(crate) fn authorize(&mut self, action: eucora_license_core::Action) -> Result<(), Flow> {
        let d = eucora_license_governance::authorize(self.actor, action, &self.policy);
        let name = format!("authorize {action}");
        if d.allowed {
            self.step(&name, "ok", "allowed");
            Ok(())
        } else {
            self.step(&name, "failed", d.reason.name());
            Err(Flow::Failed(d.reason.name().to_string()))
        }
    }
}

/// Hash of the inputs: SHA-256 of the canonical `{name: "sha256:..."}` map.
pub(crate) fn inputs_hash(inputs: &Inputs) -> String {
    let m: Map<String, Value> = inputs.iter().map(|(k, v)| (k.clone(), Value::from(sha256(v).to_prefixed()))).collect();
    sha256(&canonical_bytes(&Value::Object(m)).unwrap_or_default()).to_prefixed()
}

/// One agent run in progress.
pub struct AgentMachine {
    agent: AgentName,
    actor: Actor,
    actor_value: Value,
    started_at: Instant,
    correlation_id: Option<String>,
    inputs: Inputs,
    model_id: Option<String>,
    answers: Vec<Answer>,
    pending: Option<ModelRequest>,
}

impl AgentMachine {
    /// A run of `agent` by `actor` (a D1 actor as JSON: the agent actor
    /// `{"type": "agent", "agent", "on_behalf_of"}`, or the delegating user,
    /// then wrapped as this agent on their behalf), started at `started_at`
    /// (RFC 3339, normalised to UTC). `model_id`: the model the host will
    /// answer with, or `None` to run without a model (deterministic path).
    pub fn new(
        agent: AgentName,
        actor: &Value,
        started_at: &str,
        correlation_id: Option<&str>,
        inputs: Inputs,
        model_id: Option<&str>,
    ) -> Result<AgentMachine, Error> {
        let parsed = Actor::from_value(actor).map_err(|e| Error::new("invalid_actor", e.to_string()))?;
        let actor = match parsed {
            Actor::User { .. } => Actor::agent(agent, parsed),
            a => a,
        };
        let started_at = Instant::parse(started_at).map_err(|_| Error::new("invalid_instant", "started_at is not an RFC 3339 instant"))?;
        Ok(AgentMachine {
            agent,
            actor_value: actor.to_value(),
            actor,
            started_at,
            correlation_id: correlation_id.map(str::to_string),
            inputs,
            model_id: model_id.map(str::to_string),
            answers: Vec::new(),
            pending: None,
        })
    }

    /// The next request, or the finished run.
    pub fn step(&mut self) -> Step {
        let (flow, ctx_steps, asked, outputs) = self.execute();
        match flow {
            Some(Flow::Pending(req)) => {
                self.pending = Some(req.clone());
                Step::Request(req)
            }
            other => {
                let error = match other {
                    Some(Flow::Failed(code)) => Some(code),
                    _ => None,
                };
                Step::Done(self.finish(asked, ctx_steps, outputs, error))
            }
        }
    }

    /// Answer the pending request with the model's text.
    pub fn complete(&mut self, response_text: &str) -> Result<(), Error> {
        self.answer(Answer::Text(response_text.to_string()))
    }

    /// Report that the model call raised or timed out (`model_call_failed`);
    /// `reason` is not recorded (it may hold anything).
    pub fn fail(&mut self, reason: &str) -> Result<(), Error> {
        let _ = reason;
        self.answer(Answer::Failed)
    }

    fn answer(&mut self, a: Answer) -> Result<(), Error> {
        if self.pending.take().is_none() {
            return Err(Error::new("no_pending_request", "no model request is pending"));
        }
        self.answers.push(a);
        Ok(())
    }

    fn execute(&self) -> (Option<Flow>, Vec<RunStep>, Vec<ModelRequest>, Map<String, Value>) {
        let mut ctx = Ctx {
            agent: self.agent,
            actor: &self.actor,
            started_at: self.started_at,
            correlation_id: self.correlation_id.as_deref(),
            inputs: &self.inputs,
            policy: Policy::default_policy(),
            answers: &self.answers,
            model: self.model_id.is_some(),
            asked: Vec::new(),
            steps: Vec::new(),
            outputs: Map::new(),
        };
        let flow = agents::run_pipeline(&mut ctx).err();
        (flow, ctx.steps, ctx.asked, ctx.outputs)
    }

    fn finish(&self, asked: Vec<ModelRequest>, steps: Vec<RunStep>, outputs: Map<String, Value>, error: Option<String>) -> AgentRun {
        let model_id = self.model_id.clone().unwrap_or_default();
        let model_calls = asked
            .into_iter()
            .zip(&self.answers)
            .map(|(request, a)| {
                let request_hash = sha256(&canonical_bytes(&request.to_value()).unwrap_or_default()).to_prefixed();
                let response = match a {
                    Answer::Text(t) => Some(t.clone()),
                    Answer::Failed => None,
                };
                let response_hash = response.as_ref().map(|t| sha256(t.as_bytes()).to_prefixed());
                ModelCall { request, request_hash, response, response_hash, model_id: model_id.clone() }
            })
            .collect();
        let inputs_hash = inputs_hash(&self.inputs);
        let started_at = self.started_at.to_string();
        let id_doc = json!({"agent": self.agent, "actor": self.actor_value, "correlation_id": self.correlation_id,
                            "started_at": started_at, "inputs_hash": inputs_hash});
        let run_id = tagged_hash(Domain::AgentRun, &canonical_bytes(&id_doc).unwrap_or_default()).to_prefixed();
        AgentRun {
            run_id,
            agent: self.agent,
            actor: self.actor_value.clone(),
            correlation_id: self.correlation_id.clone(),
            started_at,
            inputs_hash,
            model_calls,
            steps,
            outputs: Value::Object(outputs),
            status: if error.is_some() { "failed" } else { "ok" },
            error,
        }
    }
}

/// Re-run `run`'s pipeline over `inputs` with the recorded responses
/// instead of a model. Errors: `inputs_mismatch` (not the inputs the run
/// recorded), `replay_mismatch` (the pipeline asked something else than
/// recorded, or its outputs differ from the recorded ones byte for byte).
/// Returns the re-computed run.
pub fn replay(run: &Value, inputs: &Inputs) -> Result<AgentRun, Error> {
    let rec = AgentRun::from_value(run)?;
    if inputs_hash(inputs) != rec.inputs_hash {
        return Err(Error::new("inputs_mismatch", "the inputs are not the ones the run recorded"));
    }
    let model_id = rec.model_calls.first().map(|c| c.model_id.clone());
    let mut m =
        AgentMachine::new(rec.agent, &rec.actor, &rec.started_at, rec.correlation_id.as_deref(), inputs.clone(), model_id.as_deref())?;
    let mut calls = rec.model_calls.iter();
    loop {
        match m.step() {
            Step::Request(req) => {
                let Some(c) = calls.next() else {
                    return Err(Error::new("replay_mismatch", "the pipeline asked more than the run recorded"));
                };
                if c.request != req {
                    return Err(Error::new(
                        "replay_mismatch",
                        format!("model call differs from the recorded request (purpose `{}`)", req.purpose),
                    ));
                }
                match &c.response {
                    Some(t) => m.complete(t)?,
                    None => m.fail("recorded failure")?,
                }
            }
            Step::Done(again) => {
                if calls.next().is_some() {
                    return Err(Error::new("replay_mismatch", "the run recorded more model calls than the pipeline asks"));
                }
                let recorded = canonical_bytes(&rec.outputs).unwrap_or_default();
                if again.outputs_bytes() != recorded || again.status != rec.status || again.error != rec.error {
                    return Err(Error::new("replay_mismatch", "the outputs differ from the recorded ones"));
                }
                return Ok(again);
            }
        }
    }
}
