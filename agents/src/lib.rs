//! # eucora-license-agents
//!
//! The five agents of DESIGN D4 as sans-IO state machines: [`AgentMachine::step`]
//! returns the next [`ModelRequest`] or the finished [`AgentRun`]; the host
//! answers with [`AgentMachine::complete`] (or [`AgentMachine::fail`] when
//! its model raised or timed out). Nothing here calls out, reads a clock or
//! the environment: the actor, the start instant, the policy and every input
//! are arguments, so [`replay`] re-runs a pipeline with the recorded
//! responses and reproduces its outputs byte for byte.
//!
//! How the machine stays pure and simple: each agent is a deterministic
//! pipeline over its inputs and the answers received so far. `step()` runs
//! the pipeline from the start with those answers; the first question not
//! yet answered becomes the request. Re-running is cheap next to a model
//! call and makes replay the same code path as the live run.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod agents;
pub mod discovery;
pub mod grounding;
mod machine;
mod model;
pub mod schema;

pub use machine::{replay, AgentMachine, AgentRun, Inputs, ModelCall, ModelRequest, RunStep, Step};
pub use model::{run, Model, ScriptedModel};

/// Error of the agents' API (bad actor, bad instant, misuse of the machine,
/// a replay that does not reproduce). `code` is a stable snake_case name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Stable code (`invalid_actor`, `replay_mismatch`, ...).
    pub code: &'static str,
    /// English detail, never a secret.
    pub message: String,
}

impl Error {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }

    /// `{"error": {"code", "message"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}
