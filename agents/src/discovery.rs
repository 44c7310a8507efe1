//! `consumption_discovery` and `inventory_extractor` (D4): raw exports
//! through the core's adapters, mapped by the ruleset, checked against
//! the catalog; proposals through governance only.

use crate::agents::{ask_structured, canonical_text, under};
use crate::machine::{Ctx, Flow};
use eucora_license_core::internal::hash::sha256;
use eucora_license_core::internal::ruleset::{parse as parse_ruleset, Ruleset};
use eucora_license_core::{run_adapter, Action, InputFile, ProposalKind};
use eucora_license_governance::propose;
use eucora_license_insight::Rat;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const COLUMNS: [&str; 16] = [
    "source",
    "raw_id",
    "observed_at",
    "sku",
    "product",
    "kind",
    "status",
    "user",
    "device_serial",
    "device_id",
    "device_name",
    "last_used_at",
    "session_start",
    "session_end",
    "quantity",
    "confidence",
];

fn fail(ctx: &mut Ctx<'_>, step: &str, code: &str) -> Flow {
    ctx.step(step, "failed", code);
    Flow::Failed(code.to_string())
}

/// Catalog SKU ids (`catalog`), empty when absent or unreadable.
fn catalog_skus(ctx: &Ctx<'_>) -> BTreeSet<String> {
    let doc: Value = ctx.inputs.get("catalog").and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null);
    doc["skus"].as_array().into_iter().flatten().filter_map(|s| s["id"].as_str().map(str::to_string)).collect()
}

fn ruleset(ctx: &mut Ctx<'_>) -> Result<Ruleset, Flow> {
    let Some(bytes) = ctx.inputs.get("ruleset") else { return Err(fail(ctx, "ruleset", "missing_input")) };
    parse_ruleset(bytes, None).map_err(|_| fail(ctx, "ruleset", "invalid_ruleset"))
}

struct Adapted {
    jobs: Vec<Value>,
    signals: Vec<(String, Map<String, Value>)>,
    observations: Vec<eucora_license_core::EntitlementObservation>,
}

/// Run every adapter over `exports/<adapter>/<file>`, with options from
/// `bundle.json`'s `adapter_options` when given. An adapter that fails is a
/// failed step and a failed job; the others go on.
fn adapt(ctx: &mut Ctx<'_>) -> Adapted {
    let opts: Value = ctx.inputs.get("bundle.json").and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null);
    let mut per: BTreeMap<String, Vec<InputFile>> = BTreeMap::new();
    for (rest, bytes) in under(ctx, "exports") {
        if let Some((adapter, path)) = rest.split_once('/') {
            per.entry(adapter.to_string()).or_default().push(InputFile { path: path.to_string(), bytes: bytes.to_vec() });
        }
    }
    let mut out = Adapted { jobs: Vec::new(), signals: Vec::new(), observations: Vec::new() };
    for (adapter, files) in per {
        let options: BTreeMap<String, String> = opts["adapter_options"][&adapter]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect();
        let file_list: Vec<Value> = files.iter().map(|f| json!({"path": f.path, "sha256": sha256(&f.bytes).to_prefixed()})).collect();
        let result = if adapter == CANONICAL {
            canonical_signals(&files)
        } else {
            run_adapter(&adapter, &files, &options).map_err(|e| e.code().name()).map(|(_, o)| {
                let rejected = o
                    .rejected
                    .iter()
                    .map(|(f, r)| json!({"file": files[*f].path, "line": r.line, "column": r.column, "code": r.code.name()}))
                    .collect();
                let rows = o
                    .signals
                    .iter()
                    .map(|(_, s)| COLUMNS.iter().zip(s.fields()).map(|(k, v)| (k.to_string(), json!(v))).collect())
                    .collect();
                (rows, o.observations, rejected)
            })
        };
        match result {
            Err(code) => {
                ctx.step(&format!("adapter {adapter}"), "failed", code);
                out.jobs.push(json!({"adapter": adapter, "files": file_list, "status": "failed", "error": code}));
            }
            Ok((rows, observations, rejected)) => {
                ctx.step(&format!("adapter {adapter}"), "ok", format!("{} signals", rows.len()));
                out.jobs.push(json!({"adapter": adapter, "files": file_list, "status": "ok", "signals": rows.len(),
                                     "observations": observations.len(), "rejected": rejected}));
                out.signals.extend(rows.into_iter().map(|r| (adapter.clone(), r)));
                out.observations.extend(observations);
            }
        }
    }
    out
}

/// The folder name under `exports/` that holds canonical signal CSV (the A1
/// form a bundle keeps under `signals/`), passed through as written. Why:
/// no source adapter sets `confidence` (A1 default `1`), so without this
/// form the low-confidence review list could never be filled.
const CANONICAL: &str = "signals";

/// Adapter output as the agent keeps it: signal rows, portal observations,
/// rejected records.
type Rows = (Vec<Map<String, Value>>, Vec<eucora_license_core::EntitlementObservation>, Vec<Value>);

/// Canonical signal CSV files: the header must be the 16 A1 columns in
/// order (else the job fails, `invalid_input`); a record with another
/// field count is rejected (`invalid_record`), one whose `confidence` is
/// not a decimal in [0, 1] too (`bad_confidence`). Nothing else is
/// checked here: the reconcile validates rows again.
fn canonical_signals(files: &[InputFile]) -> Result<Rows, &'static str> {
    let (mut rows, mut rejected) = (Vec::new(), Vec::new());
    let (zero, one) = (Rat::new(0, 1), Rat::new(1, 1));
    for f in files {
        let text = String::from_utf8(f.bytes.clone()).map_err(|_| "invalid_input")?;
        let mut lines = text.trim_start_matches('\u{feff}').lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let head = lines.next().map(|(_, h)| csv_split(h.trim_end_matches('\r'))).unwrap_or_default();
        if head != COLUMNS {
            return Err("invalid_input");
        }
        for (i, line) in lines {
            let fields = csv_split(line.trim_end_matches('\r'));
            let conf = fields.get(15).map(String::as_str).unwrap_or_default();
            let conf_ok = conf.is_empty() || Rat::from_decimal(conf).is_some_and(|c| Some(c) >= zero && Some(c) <= one);
            let code = if fields.len() != COLUMNS.len() {
                "invalid_record"
            } else if !conf_ok {
                "bad_confidence"
            } else {
                rows.push(COLUMNS.iter().zip(fields).map(|(k, v)| (k.to_string(), json!(v))).collect());
                continue;
            };
            rejected.push(json!({"file": f.path, "line": i + 1, "column": Value::Null, "code": code}));
        }
    }
    Ok((rows, Vec::new(), rejected))
}

fn mapped(rs: &Ruleset, product: &str) -> Option<String> {
    rs.map_product(&product.trim().to_lowercase()).map(str::to_string)
}

pub(crate) fn consumption_discovery(ctx: &mut Ctx<'_>) -> Result<(), Flow> {
    ctx.authorize(Action::ImportUpload)?;
    let rs = ruleset(ctx)?;
    let skus = catalog_skus(ctx);
    let a = adapt(ctx);
    let review = Rat::new(rs.review_confidence.0, 1_000_000_000);
    let mut low = Vec::new();
    let mut unmapped: BTreeSet<String> = BTreeSet::new();
    for (i, (_, s)) in a.signals.iter().enumerate() {
        let conf = s["confidence"].as_str().unwrap_or_default();
        if let (Some(c), Some(r)) = (Rat::from_decimal(conf), review) {
            if c < r {
                low.push(json!({"index": i, "source": s["source"], "raw_id": s["raw_id"], "confidence": conf}));
            }
        }
        let sku = s["sku"].as_str().unwrap_or_default();
        let product = s["product"].as_str().unwrap_or_default();
        if sku.is_empty() && !product.is_empty() && mapped(&rs, product).is_none() {
            unmapped.insert(product.to_string());
        }
    }
    ctx.step("review", "ok", format!("{} low-confidence signals", low.len()));
    let mut proposals = Vec::new();
    if !unmapped.is_empty() {
        ctx.authorize(Action::MappingPropose)?;
    }
    let schema = json!({"type": "object", "required": ["sku"], "additionalProperties": false,
                        "properties": {"sku": {"type": ["string", "null"]}, "reason": {"type": "string"}}});
    for product in &unmapped {
        let prompt = canonical_text(&json!({"product": product, "catalog_skus": skus}));
        let system = "Map this product name to one SKU id of the catalog, or null when none fits. Answer {\"sku\"}.";
        let extra = |v: &Value| match v["sku"].as_str() {
            Some(s) if !skus.contains(s) => vec![format!("$.sku: `{s}` is not a catalog SKU")],
            _ => Vec::new(),
        };
        let Some(v) = ask_structured(ctx, "mapping", system, &prompt, &schema, &extra)? else { continue };
        let Some(sku) = v["sku"].as_str() else { continue };
        let payload = json!({"match": "exact", "field": "product", "value": product, "sku": sku});
        match propose(ProposalKind::MappingSku, &payload, ctx.actor, ctx.started_at, &ctx.policy, ctx.correlation_id, &[]) {
            Ok(p) => proposals.push(p.to_value()),
            Err(e) => return Err(fail(ctx, "propose", e.code)),
        }
    }
    ctx.outputs.insert("jobs".into(), Value::Array(a.jobs));
    ctx.outputs.insert("signals".into(), Value::Array(a.signals.into_iter().map(|(_, s)| Value::Object(s)).collect()));
    ctx.outputs.insert("review".into(), Value::Array(low));
    ctx.outputs.insert("unmapped_products".into(), json!(unmapped));
    ctx.outputs.insert("proposals".into(), Value::Array(proposals));
    Ok(())
}

/// Replace what looks like a secret before contract text reaches a model
/// (the prompt is recorded in the run): the rest of any line naming a key,
/// token, password or secret, and license-key shaped words (four or more
/// `-`-separated groups of 4–6 letters and digits).
pub fn redact(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let lower = line.to_lowercase();
        let mut l = line.to_string();
        for kw in ["license key", "licence key", "product key", "serial key", "api key", "token", "password", "secret"] {
            if let Some(i) = lower.find(kw) {
                let cut = line.char_indices().nth(lower[..i].chars().count() + kw.chars().count()).map(|(b, _)| b).unwrap_or(line.len());
                l = format!("{} [redacted]", &line[..cut]);
                break;
            }
        }
        let words: Vec<String> = l
            .split(' ')
            .map(|w| {
                let groups: Vec<&str> = w.trim_matches(|c: char| !c.is_alphanumeric()).split('-').collect();
                let keyish =
                    groups.len() >= 4 && groups.iter().all(|g| (4..=6).contains(&g.len()) && g.chars().all(|c| c.is_ascii_alphanumeric()));
                if keyish {
                    "[redacted]".to_string()
                } else {
                    w.to_string()
                }
            })
            .collect();
        out.push(words.join(" "));
    }
    out.join("\n")
}

/// One CSV record's fields (comma separated, double quotes around fields
/// that hold commas or quotes, `""` for a quote).
fn csv_split(line: &str) -> Vec<String> {
    let (mut f, mut cur, mut q) = (Vec::new(), String::new(), false);
    let mut it = line.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '"' if q && it.peek() == Some(&'"') => {
                cur.push('"');
                it.next();
            }
            '"' => q = !q,
            ',' if !q => f.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    f.push(cur);
    f
}

/// A minimal CSV reader for `entitlements.csv` (comma separated, double
/// quotes around fields that hold commas or quotes).
fn csv_rows(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(head) = lines.next() else { return Vec::new() };
    let head = csv_split(head.trim_end_matches('\r'));
    lines.map(|l| head.iter().cloned().zip(csv_split(l.trim_end_matches('\r'))).collect()).collect()
}

pub(crate) fn inventory_extractor(ctx: &mut Ctx<'_>) -> Result<(), Flow> {
    ctx.authorize(Action::EntitlementPropose)?;
    let rs = ruleset(ctx)?;
    let skus = catalog_skus(ctx);
    let today = ctx.started_at.to_string()[..10].to_string();
    let rows = ctx.inputs.get("entitlements").map(|b| csv_rows(b)).unwrap_or_default();
    ctx.step("entitlements", "ok", format!("{} rows", rows.len()));
    let a = adapt(ctx);
    let in_force = |r: &BTreeMap<String, String>| {
        r.get("starts_on").is_none_or(|s| s.as_str() <= today.as_str())
            && r.get("ends_on").is_none_or(|e| e.is_empty() || e.as_str() >= today.as_str())
    };
    let mut discrepancies = Vec::new();
    let mut proposals = Vec::new();
    // Portal observations, per mapped SKU.
    let mut observed: BTreeMap<String, (i64, i64, Vec<String>)> = BTreeMap::new();
    for o in &a.observations {
        let Some(sku) = mapped(&rs, &o.product) else { continue };
        let e = observed.entry(sku).or_default();
        e.0 += o.enabled;
        e.1 += o.consumed;
        e.2.push(format!("{}:{}", o.source, o.product));
    }
    for (sku, (enabled, consumed, seen)) in &observed {
        let all: Vec<&BTreeMap<String, String>> = rows.iter().filter(|r| r.get("sku") == Some(sku)).collect();
        let live: Vec<&&BTreeMap<String, String>> = all.iter().filter(|r| in_force(r)).collect();
        let held: i64 = live.iter().filter_map(|r| r.get("quantity").and_then(|q| q.parse::<i64>().ok())).sum();
        if all.is_empty() {
            discrepancies.push(json!({"type": "missing_entitlement", "sku": sku, "source": "portal", "observed": enabled, "portal": seen}));
        } else if live.is_empty() && *consumed > 0 {
            discrepancies.push(json!({"type": "expired_in_use", "sku": sku, "source": "portal", "consumed": consumed,
                                      "entitlements": all.iter().map(|r| r.get("entitlement_id")).collect::<Vec<_>>()}));
        } else if held != *enabled {
            discrepancies.push(json!({"type": "quantity_differs", "sku": sku, "source": "portal", "held": held, "observed": enabled}));
            if let [only] = live.as_slice() {
                let mut row = row_value(only);
                row["quantity"] = json!(enabled);
                let p = propose(ProposalKind::EntitlementUpdate, &row, ctx.actor, ctx.started_at, &ctx.policy, ctx.correlation_id, &[])
                    .map_err(|e| fail(ctx, "propose", e.code))?;
                proposals.push(p.to_value());
            }
        }
    }
    // Contract documents: the model structures the (redacted) text.
    let schema = json!({"type": "object", "required": ["entitlements"], "additionalProperties": false, "properties": {"entitlements": {
        "type": "array", "items": {"type": "object", "required": ["contract_id", "sku", "quantity", "starts_on", "ends_on"],
        "additionalProperties": false, "properties": {"contract_id": {"type": "string"}, "sku": {"type": "string"},
        "quantity": {"type": "integer"}, "starts_on": {"type": "string"}, "ends_on": {"type": "string"},
        "unit_cost": {"type": ["string", "null"]}, "currency": {"type": ["string", "null"]}}}}}});
    for (name, bytes) in under(ctx, "contracts") {
        let text = redact(&String::from_utf8_lossy(bytes));
        let prompt = canonical_text(&json!({"document": name, "sha256": sha256(bytes).to_prefixed(), "text": text, "catalog_skus": skus}));
        let system = "Extract the entitlements this contract grants. Answer {\"entitlements\": [{contract_id, sku, quantity, starts_on, ends_on, unit_cost, currency}]} with catalog SKU ids and YYYY-MM-DD dates.";
        let extra = |v: &Value| {
            let mut e = Vec::new();
            for (i, x) in v["entitlements"].as_array().into_iter().flatten().enumerate() {
                if let Some(s) = x["sku"].as_str().filter(|s| !skus.contains(*s)) {
                    e.push(format!("$.entitlements[{i}].sku: `{s}` is not a catalog SKU"));
                }
                for k in ["starts_on", "ends_on"] {
                    if x[k].as_str().and_then(eucora_license_core::Date::parse).is_none() {
                        e.push(format!("$.entitlements[{i}].{k}: not a YYYY-MM-DD date"));
                    }
                }
            }
            e
        };
        let Some(v) = ask_structured(ctx, "contract", system, &prompt, &schema, &extra)? else { continue };
        for x in v["entitlements"].as_array().into_iter().flatten() {
            let (cid, sku) = (x["contract_id"].as_str().unwrap_or_default(), x["sku"].as_str().unwrap_or_default());
            let found = rows
                .iter()
                .find(|r| r.get("contract_id").map(String::as_str) == Some(cid) && r.get("sku").map(String::as_str) == Some(sku));
            match found {
                None => {
                    discrepancies.push(
                        json!({"type": "missing_entitlement", "sku": sku, "source": "contract", "document": name, "contract_id": cid}),
                    );
                    let row = json!({"entitlement_id": format!("{cid}/{sku}"), "sku": sku, "contract_id": cid, "quantity": x["quantity"],
                                     "starts_on": x["starts_on"], "ends_on": x["ends_on"], "unit_cost": x["unit_cost"], "currency": x["currency"]});
                    let p = propose(
                        ProposalKind::EntitlementCreate,
                        &row,
                        ctx.actor,
                        ctx.started_at,
                        &ctx.policy,
                        ctx.correlation_id,
                        &[json!(sha256(bytes).to_prefixed())],
                    )
                    .map_err(|e| fail(ctx, "propose", e.code))?;
                    proposals.push(p.to_value());
                }
                Some(r) => {
                    let mut row = row_value(r);
                    let mut changed = false;
                    if r.get("starts_on").map(String::as_str) != x["starts_on"].as_str()
                        || r.get("ends_on").map(String::as_str) != x["ends_on"].as_str()
                    {
                        discrepancies.push(json!({"type": "dates_differ", "entitlement_id": r.get("entitlement_id"), "document": name,
                            "held": [r.get("starts_on"), r.get("ends_on")], "contract": [x["starts_on"], x["ends_on"]]}));
                        row["starts_on"] = x["starts_on"].clone();
                        row["ends_on"] = x["ends_on"].clone();
                        changed = true;
                    }
                    if r.get("quantity").and_then(|q| q.parse::<i64>().ok()) != x["quantity"].as_i64() {
                        discrepancies
                            .push(json!({"type": "quantity_differs", "entitlement_id": r.get("entitlement_id"), "source": "contract",
                            "document": name, "held": row["quantity"], "contract": x["quantity"]}));
                        row["quantity"] = x["quantity"].clone();
                        changed = true;
                    }
                    if changed {
                        let p = propose(
                            ProposalKind::EntitlementUpdate,
                            &row,
                            ctx.actor,
                            ctx.started_at,
                            &ctx.policy,
                            ctx.correlation_id,
                            &[json!(sha256(bytes).to_prefixed())],
                        )
                        .map_err(|e| fail(ctx, "propose", e.code))?;
                        proposals.push(p.to_value());
                    }
                }
            }
        }
    }
    ctx.step("compare", "ok", format!("{} discrepancies", discrepancies.len()));
    ctx.outputs.insert("discrepancies".into(), Value::Array(discrepancies));
    ctx.outputs.insert("proposals".into(), Value::Array(proposals));
    Ok(())
}

/// An entitlement row as a proposal payload (`quantity` an integer).
fn row_value(r: &BTreeMap<String, String>) -> Value {
    let mut m = Map::new();
    for (k, v) in r {
        let val = if k == "quantity" { v.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(v)) } else { json!(v) };
        m.insert(k.clone(), val);
    }
    Value::Object(m)
}
