//! The five pipelines of D4. Each runs over `Ctx` (inputs, answers so far)
//! and records steps and outputs; a `Flow::Pending` stops it at the first
//! unanswered model question.

use crate::grounding;
use crate::machine::{Ctx, Flow, ModelRequest};
use crate::schema;
use eucora_license_core::internal::hash::sha256;
use eucora_license_core::{reconcile, write_pack, Action, AgentName, MemoryBundle, ProposalKind, RunStatus};
use eucora_license_governance::{propose, Policy};
use serde_json::{json, Map, Value};

/// Most re-asks after an invalid structured answer (D4).
const MAX_REASKS: usize = 2;

pub(crate) fn run_pipeline(ctx: &mut Ctx<'_>) -> Result<(), Flow> {
    if let Some(bytes) = ctx.inputs.get("policy") {
        match Policy::from_slice(bytes) {
            Ok(p) => ctx.policy = p,
            Err(_) => {
                ctx.step("policy", "failed", "invalid_policy");
                return Err(Flow::Failed("invalid_policy".into()));
            }
        }
    }
    match ctx.agent {
        AgentName::TruthBuilder => truth_builder(ctx),
        AgentName::AnomalyDetector => anomaly_detector(ctx),
        AgentName::OptimizationAdvisor => optimization_advisor(ctx),
        AgentName::ConsumptionDiscovery => crate::discovery::consumption_discovery(ctx),
        AgentName::InventoryExtractor => crate::discovery::inventory_extractor(ctx),
    }
}

/// Ask for structured output: validated against `schema` and `extra`
/// (catalog checks, known ids); invalid output is a failed step
/// (`model_output_invalid`) and is re-asked at most twice with the errors.
/// `Ok(None)`: no model, a failed call, or still invalid after the re-asks.
pub(crate) fn ask_structured(
    ctx: &mut Ctx<'_>,
    purpose: &str,
    system: &str,
    prompt: &str,
    response_schema: &Value,
    extra: &dyn Fn(&Value) -> Vec<String>,
) -> Result<Option<Value>, Flow> {
    let mut errors: Vec<String> = Vec::new();
    for _ in 0..=MAX_REASKS {
        let prompt = if errors.is_empty() {
            prompt.to_string()
        } else {
            format!(
                "{prompt}\n\nYour previous answer was invalid:\n- {}\nAnswer again with JSON that fits the schema.",
                errors.join("\n- ")
            )
        };
        let req = ModelRequest {
            agent: ctx.agent,
            purpose: purpose.to_string(),
            system: system.to_string(),
            prompt,
            response_schema: response_schema.clone(),
        };
        let Some(text) = ctx.ask(req)? else { return Ok(None) };
        errors = match serde_json::from_str::<Value>(&text) {
            Err(_) => vec!["$: not JSON".to_string()],
            Ok(v) => {
                let mut e = schema::validate(response_schema, &v);
                if e.is_empty() {
                    e = extra(&v);
                }
                if e.is_empty() {
                    ctx.step(purpose, "ok", "valid");
                    return Ok(Some(v));
                }
                e
            }
        };
        ctx.step(purpose, "failed", "model_output_invalid");
    }
    Ok(None)
}

/// A grounded narrative over `facts`, or `None` (the deterministic message
/// is then used; an ungrounded answer is a `fallback` step).
pub(crate) fn narrative(ctx: &mut Ctx<'_>, about: &Value, facts: &Map<String, Value>, message: &str) -> Result<Option<String>, Flow> {
    let prompt = canonical_text(&json!({"about": about, "facts": grounding::facts_table(facts), "deterministic_message": message}));
    let system = "Write a short English narrative of this item for a license manager. Answer {\"sentences\": [{\"text\", \"fact_ids\"}]}; \
                  every number in a sentence must be one of the facts that sentence cites.";
    let extra = |v: &Value| grounding::cited_ids_errors(v, facts);
    let Some(v) = ask_structured(ctx, "narrative", system, &prompt, &grounding::narrative_schema(), &extra)? else { return Ok(None) };
    match grounding::check(&v, facts) {
        Ok(text) => Ok(Some(text)),
        Err((i, n)) => {
            ctx.step("narrative", "fallback", format!("ungrounded_narrative: sentence {i} states {n}"));
            Ok(None)
        }
    }
}

pub(crate) fn canonical_text(v: &Value) -> String {
    String::from_utf8(eucora_license_core::canonical_bytes(v).unwrap_or_default()).unwrap_or_default()
}

/// Inputs named `<prefix>/<rest>`, by name.
pub(crate) fn under<'a>(ctx: &Ctx<'a>, prefix: &str) -> Vec<(String, &'a [u8])> {
    let p = format!("{prefix}/");
    ctx.inputs.iter().filter_map(|(k, v)| k.strip_prefix(&p).map(|r| (r.to_string(), v.as_slice()))).collect()
}

fn truth_builder(ctx: &mut Ctx<'_>) -> Result<(), Flow> {
    ctx.authorize(Action::ReconcileRun)?;
    let mut bundle = MemoryBundle::default();
    for (path, bytes) in under(ctx, "bundle") {
        bundle.insert(path, bytes.to_vec());
    }
    let previous = ctx.inputs.get("previous").map(Vec::as_slice);
    let out = reconcile(&bundle, previous);
    let previous_hash = previous.map(|p| sha256(p).to_prefixed());
    if out.status == RunStatus::Failed {
        let codes: Vec<&str> = out.errors.iter().map(|e| e.code().name()).collect();
        ctx.step("reconcile", "failed", codes.join(","));
        ctx.outputs.insert("reconcile_status".into(), json!("failed"));
        ctx.outputs.insert("errors".into(), json!(codes));
        ctx.outputs.insert("snapshot_hash".into(), Value::Null);
        ctx.outputs.insert("pack_hash".into(), Value::Null);
        ctx.outputs.insert("truth".into(), json!({"kept": "previous", "previous_pack_sha256": previous_hash}));
        return Err(Flow::Failed("reconcile_failed".into()));
    }
    ctx.step("reconcile", "ok", out.status.name());
    match write_pack(&out, Vec::new()) {
        Ok((pack, pack_hash)) => {
            ctx.step("evidence_pack", "ok", "written");
            ctx.outputs.insert("reconcile_status".into(), json!(out.status.name()));
            ctx.outputs.insert("errors".into(), json!([]));
            ctx.outputs.insert("snapshot_hash".into(), json!(out.snapshot.as_ref().map(|s| s.hash().to_prefixed())));
            ctx.outputs.insert("pack_hash".into(), json!(pack_hash.to_prefixed()));
            ctx.outputs.insert("pack_sha256".into(), json!(sha256(&pack).to_prefixed()));
            ctx.outputs.insert("truth".into(), json!({"kept": "new", "previous_pack_sha256": previous_hash}));
            Ok(())
        }
        Err(e) => {
            // No evidence pack, no snapshot (A6): the previous truth stays.
            ctx.step("evidence_pack", "failed", e.code().name());
            ctx.outputs.insert("reconcile_status".into(), json!("failed"));
            ctx.outputs.insert("errors".into(), json!([e.code().name()]));
            ctx.outputs.insert("snapshot_hash".into(), Value::Null);
            ctx.outputs.insert("pack_hash".into(), Value::Null);
            ctx.outputs.insert("truth".into(), json!({"kept": "previous", "previous_pack_sha256": previous_hash}));
            Err(Flow::Failed("reconcile_failed".into()))
        }
    }
}

/// `history/<name>` snapshots (by name, oldest first), `pack`, and the
/// insight policy (`policy`, else the default).
/// History snapshots, the latest pack and the insight policy.
type InsightInputs<'a> = (Vec<&'a [u8]>, &'a [u8], eucora_license_insight::Policy);

fn insight_inputs<'a>(ctx: &mut Ctx<'a>) -> Result<InsightInputs<'a>, Flow> {
    let history: Vec<&[u8]> = under(ctx, "history").into_iter().map(|(_, b)| b).collect();
    let Some(pack) = ctx.inputs.get("pack").map(Vec::as_slice) else {
        ctx.step("inputs", "failed", "missing_input: pack");
        return Err(Flow::Failed("missing_input".into()));
    };
    let policy = match ctx.inputs.get("policy") {
        Some(b) => eucora_license_insight::Policy::parse(b, "policy").map_err(|e| {
            ctx.step("policy", "failed", e.code.name());
            Flow::Failed(e.code.name().into())
        })?,
        None => eucora_license_insight::Policy::default_policy(),
    };
    Ok((history, pack, policy))
}

fn anomaly_detector(ctx: &mut Ctx<'_>) -> Result<(), Flow> {
    ctx.authorize(Action::ViewAlerts)?;
    let (history, pack, policy) = insight_inputs(ctx)?;
    let alerts = eucora_license_insight::alerts(&history, pack, &policy).map_err(|e| {
        ctx.step("alerts", "failed", e.code.name());
        Flow::Failed(e.code.name().into())
    })?;
    ctx.step("alerts", "ok", format!("{} alerts", alerts.len()));
    let mut out = Vec::new();
    for a in &alerts {
        let about = json!({"alert_id": a.alert_id, "type": a.kind, "severity": a.severity, "subject": a.subject});
        let told = narrative(ctx, &about, &a.facts, &a.message)?;
        let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("message_source".into(), json!(if told.is_some() { "model" } else { "deterministic" }));
            if let Some(t) = told {
                o.insert("message".into(), json!(t));
            }
        }
        out.push(v);
    }
    ctx.outputs.insert("alerts".into(), Value::Array(out));
    Ok(())
}

fn optimization_advisor(ctx: &mut Ctx<'_>) -> Result<(), Flow> {
    ctx.authorize(Action::RecommendationPropose)?;
    let (history, pack, policy) = insight_inputs(ctx)?;
    let recs = eucora_license_insight::advise(&history, pack, &policy).map_err(|e| {
        ctx.step("advise", "failed", e.code.name());
        Flow::Failed(e.code.name().into())
    })?;
    ctx.step("advise", "ok", format!("{} recommendations", recs.len()));
    let mut proposals = Vec::new();
    for r in &recs {
        let evidence: Vec<Value> = r.evidence.snapshots.iter().map(|s| json!(s)).collect();
        let payload = json!({"recommendation_id": r.recommendation_id});
        match propose(ProposalKind::Recommendation, &payload, ctx.actor, ctx.started_at, &ctx.policy, ctx.correlation_id, &evidence) {
            Ok(p) => proposals.push(p.to_value()),
            Err(e) => {
                ctx.step("propose", "failed", e.code);
                return Err(Flow::Failed(e.code.to_string()));
            }
        }
    }
    ctx.step("propose", "ok", format!("{} proposals", proposals.len()));
    ctx.outputs.insert("recommendations".into(), serde_json::to_value(&recs).unwrap_or(Value::Null));
    ctx.outputs.insert("proposals".into(), Value::Array(proposals));
    Ok(())
}
