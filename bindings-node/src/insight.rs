//! License intelligence (DESIGN Part C): `alerts`, `advise`, `events`,
//! `complianceCheck` and `policyHash`. Each returns the document the CLI
//! prints with `--json` (`{as_of, policy, alerts | recommendations | events |
//! rows}`), built by `eucora_license_insight::api`, so the checks and the
//! shapes exist once. Keys stay snake_case, as in the engine's JSON; IT-04
//! money (`12.50` in the CLI's text) arrives as a JavaScript number.

use crate::boundary::{guard, Failure, NResult};
use crate::convert::{binary, json_arg, option, string_arg, type_name};
use eucora_license_insight::api;
use napi::bindgen_prelude::*;
use napi::{Env, ValueType};
use napi_derive::napi;
use serde_json::Value;

/// A snapshot or pack given as a Buffer/Uint8Array or as text.
fn bytes_arg(v: &Unknown<'_>, what: &str) -> NResult<Vec<u8>> {
    if let Some(b) = binary(v)? {
        return Ok(b);
    }
    if v.get_type()? == ValueType::String {
        return Ok(string_arg(v, what)?.into_bytes());
    }
    Err(Failure::arg(format!("`{what}` must be a Buffer, a Uint8Array or a string, got {}", type_name(v))))
}

/// `history`: an array of snapshots (bytes or text), oldest first.
fn history_arg(v: &Unknown<'_>) -> NResult<Vec<Vec<u8>>> {
    if !v.is_array()? {
        return Err(Failure::arg(format!("`history` must be an array of snapshots (Buffer or string), got {}", type_name(v))));
    }
    // SAFETY: the type was checked.
    let arr: Array = unsafe { v.cast() }?;
    let mut out = Vec::with_capacity(arr.len() as usize);
    for i in 0..arr.len() {
        let item: Unknown = arr.get(i)?.ok_or_else(|| Failure::arg("`history` has a hole"))?;
        out.push(bytes_arg(&item, &format!("history[{i}]"))?);
    }
    Ok(out)
}

/// `options.policy`: a policy document (text, Buffer or object); absent is
/// the shipped default.
fn policy_option(env: &Env, options: Option<&Unknown<'_>>) -> NResult<Option<Vec<u8>>> {
    match option(options, "policy")? {
        Some(v) => json_arg(env, &v, "policy").map(Some),
        None => Ok(None),
    }
}

fn text_option(options: Option<&Unknown<'_>>, key: &str) -> NResult<Option<String>> {
    option(options, key)?.map(|v| string_arg(&v, key)).transpose()
}

/// The document's JSON text as a JavaScript value.
fn document(text: String) -> NResult<Value> {
    serde_json::from_str(&text).map_err(|e| Failure::new("internal", format!("the engine wrote invalid JSON: {e}")))
}

fn slices(history: &[Vec<u8>]) -> Vec<&[u8]> {
    history.iter().map(Vec::as_slice).collect()
}

/// The alerts of a history (DESIGN C2): `history` holds the snapshots of one
/// organisation, oldest first (Buffers or text, e.g. `outcome.snapshotJson`),
/// `latestPack` the latest one's evidence pack. Throws an `Error` with
/// `.code` `invalid_policy`, `chain_broken`, `pack_invalid` or
/// `pack_mismatch` and `.index` (1-based snapshot position, null for a
/// policy error).
#[napi(
    catch_unwind,
    ts_args_type = "history: Array<Uint8Array | string>, latestPack: Uint8Array, options?: InsightOptions",
    ts_return_type = "AlertReport"
)]
pub fn alerts(env: Env, history: Unknown<'_>, latest_pack: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    guard(&env, || {
        let h = history_arg(&history)?;
        let pack = bytes_arg(&latest_pack, "latestPack")?;
        let policy = policy_option(&env, options.as_ref())?;
        document(api::alerts_json(&slices(&h), &pack, policy.as_deref())?)
    })
}

/// The ranked recommendations of a history (DESIGN C3); arguments and
/// errors as `alerts`.
#[napi(
    catch_unwind,
    ts_args_type = "history: Array<Uint8Array | string>, latestPack: Uint8Array, options?: InsightOptions",
    ts_return_type = "AdviceReport"
)]
pub fn advise(env: Env, history: Unknown<'_>, latest_pack: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    guard(&env, || {
        let h = history_arg(&history)?;
        let pack = bytes_arg(&latest_pack, "latestPack")?;
        let policy = policy_option(&env, options.as_ref())?;
        document(api::advise_json(&slices(&h), &pack, policy.as_deref())?)
    })
}

/// The IT-04 event payloads of the latest run (DESIGN C4, seed 003);
/// `organizationUuid` is the host's UUID of the organisation, `renewedBy`
/// the actor id written on renewals. Errors as `alerts`, plus
/// `invalid_input` for an organisation UUID that is not a UUID.
#[napi(
    catch_unwind,
    ts_args_type = "history: Array<Uint8Array | string>, latestPack: Uint8Array, options?: EventsOptions",
    ts_return_type = "EventReport"
)]
pub fn events(env: Env, history: Unknown<'_>, latest_pack: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    guard(&env, || {
        let h = history_arg(&history)?;
        let pack = bytes_arg(&latest_pack, "latestPack")?;
        let policy = policy_option(&env, options.as_ref())?;
        let org = text_option(options.as_ref(), "organizationUuid")?;
        let by = text_option(options.as_ref(), "renewedBy")?;
        document(api::events_json(&slices(&h), &pack, policy.as_deref(), org.as_deref(), by.as_deref())?)
    })
}

/// `it_check_license_compliance` over one run (DESIGN C4): one row per SKU
/// of `snapshot` (or the one `licenseId` names), names read from the run's
/// evidence `pack`, checked against the snapshot.
#[napi(
    catch_unwind,
    ts_args_type = "snapshot: Uint8Array | string, pack: Uint8Array, options?: ComplianceOptions",
    ts_return_type = "ComplianceReport"
)]
pub fn compliance_check(env: Env, snapshot: Unknown<'_>, pack: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    guard(&env, || {
        let snap = bytes_arg(&snapshot, "snapshot")?;
        let pack = bytes_arg(&pack, "pack")?;
        let policy = policy_option(&env, options.as_ref())?;
        let lid = text_option(options.as_ref(), "licenseId")?;
        let org = text_option(options.as_ref(), "organizationUuid")?;
        document(api::compliance_json(&snap, &pack, lid.as_deref(), org.as_deref(), policy.as_deref())?)
    })
}

/// The `eucora.policy.v1` hash (`sha256:<hex>`) of a valid policy document
/// (text, Buffer or object); an invalid one throws `invalid_policy`
/// (`validatePolicy` lists every problem instead).
#[napi(catch_unwind, ts_args_type = "policy: string | Uint8Array | object")]
pub fn policy_hash(env: Env, policy: Unknown<'_>) -> napi::Result<String> {
    guard(&env, || {
        let bytes = json_arg(&env, &policy, "policy")?;
        Ok(api::policy_hash(&bytes)?)
    })
}
