//! The agents (DESIGN D4): a runner that drives the sans-IO
//! `AgentMachine` with a Python callable as the model, and `replay`.
//!
//! The loop is the CLI's (`eucora_license_agents::run`), written out so the
//! GIL is released while the machine steps (each `step()` re-runs the
//! agent's pipeline: a reconcile, the C2/C3 engines) and held only to call
//! the model. The model gets the request as canonical JSON text (`{agent,
//! purpose, system, prompt, response_schema}`) and returns text; if it
//! raises an `Exception` or returns something other than a `str`, the call
//! is failed (`model_call_failed`, its text never recorded) and the run
//! goes on; a `BaseException` that is not an `Exception`
//! (`KeyboardInterrupt`, `SystemExit`) stops the run and propagates. No
//! host callback ever runs inside the machine (D4).

use crate::boundary::{boundary, Failure, NResult, Raise};
use eucora_license_agents::{replay, AgentMachine, AgentRun, Inputs, Step};
use eucora_license_core::internal::canonical::parse_strict;
use eucora_license_core::AgentName;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// An agents error on its way to Python (`AgentError`).
fn failure(e: eucora_license_agents::Error) -> Failure {
    Failure::new(e.code, e.message).with_details(r#"{"family":"agents"}"#.to_string())
}

fn inputs_of(inputs: &[(String, Bound<'_, PyBytes>)]) -> Inputs {
    inputs.iter().map(|(k, v)| (k.clone(), v.as_bytes().to_vec())).collect()
}

/// `(run JSON, audit entry JSON)` of a finished run.
fn finished(run: &AgentRun) -> NResult<(String, String)> {
    Ok((crate::convert::json_text(&run.to_value())?, crate::convert::json_text(&run.audit_entry())?))
}

/// Run `agent` by `actor` (D1 JSON: the agent actor or its delegating user)
/// from `at` over named `inputs`, answering model requests with `model`
/// (`None`: no model, the deterministic path; the machine is then made
/// without a model id). Returns `(run, audit_entry)` as JSON text.
#[pyfunction]
#[pyo3(signature = (agent, actor, at, inputs, model=None, model_id=None, correlation_id=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn agent_run(
    py: Python<'_>,
    agent: &str,
    actor: &str,
    at: &str,
    inputs: Vec<(String, Bound<'_, PyBytes>)>,
    model: Option<Bound<'_, PyAny>>,
    model_id: Option<String>,
    correlation_id: Option<String>,
) -> PyResult<(String, String)> {
    boundary(py, || {
        let Some(name) = AgentName::from_name(agent) else {
            return Err(Raise::from(failure(eucora_license_agents::Error { code: "unknown_agent", message: "no such agent".into() })));
        };
        let actor = parse_strict(actor).map_err(|e| Failure::invalid_input(format!("actor is not JSON: {e}")))?;
        let inputs = inputs_of(&inputs);
        let model_id = model.as_ref().map(|_| model_id.unwrap_or_else(|| "host-model".to_string()));
        let mut machine =
            py.detach(|| AgentMachine::new(name, &actor, at, correlation_id.as_deref(), inputs, model_id.as_deref())).map_err(failure)?;
        loop {
            match py.detach(|| machine.step()) {
                Step::Done(run) => return Ok(finished(&run)?),
                Step::Request(req) => {
                    let answer = match &model {
                        None => None,
                        Some(m) => {
                            let bytes = eucora_license_core::canonical_bytes(&req.to_value())
                                .map_err(|e| Failure::new("internal", format!("cannot render the request: {}", e.message())))?;
                            let request = String::from_utf8_lossy(&bytes).into_owned();
                            match m.call1((request,)) {
                                Ok(reply) => reply.extract::<String>().ok(),
                                Err(e) if e.is_instance_of::<PyException>(py) => None,
                                Err(e) => return Err(Raise::Python(e)),
                            }
                        }
                    };
                    // A request is pending, so neither call can fail.
                    let _ = match answer {
                        Some(text) => machine.complete(&text),
                        None => machine.fail("model call failed"),
                    };
                }
            }
        }
    })
}

/// Re-run a recorded run over `inputs` with its recorded responses; the
/// re-computed `(run, audit_entry)`, or `inputs_mismatch` /
/// `replay_mismatch` / `invalid_run`.
#[pyfunction]
pub(crate) fn agent_replay(py: Python<'_>, run: &str, inputs: Vec<(String, Bound<'_, PyBytes>)>) -> PyResult<(String, String)> {
    boundary(py, || {
        let run = parse_strict(run).map_err(|e| Failure::invalid_input(format!("run is not JSON: {e}")))?;
        let inputs = inputs_of(&inputs);
        let again = py.detach(|| replay(&run, &inputs)).map_err(failure)?;
        Ok(finished(&again)?)
    })
}
