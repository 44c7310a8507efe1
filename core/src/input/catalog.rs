//! Master data: vendors and SKUs (`catalog.json`), entitlements, pools and
//! the directory (DESIGN A1, A9 "Catalog integrity").
//!
//! These files are small next to the signals, so they are read whole and
//! checked together: every integrity problem is reported, each with its file,
//! line and field, and any of them fails the run closed.

use crate::canon::numbers::parse_integer;
use crate::canon::time::{Date, Instant, InstantError};
use crate::error::{Error, ErrorCode, Location, Result};
use crate::input::table::{field, CsvTable, HashingReader};
use crate::vocab::DeviceKeyPrefix;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

/// A license model (DESIGN A4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Model {
    /// Per device.
    Device,
    /// Per user.
    User,
    /// Peak concurrent checkouts.
    Concurrent,
    /// Assigned seats.
    Subscription,
    /// Add-on seats on top of a base SKU.
    Feature,
}

impl Model {
    /// Parse the contract's name.
    pub fn parse(s: &str) -> Option<Model> {
        match s {
            "device" => Some(Model::Device),
            "user" => Some(Model::User),
            "concurrent" => Some(Model::Concurrent),
            "subscription" => Some(Model::Subscription),
            "feature" => Some(Model::Feature),
            _ => None,
        }
    }

    /// The contract's name.
    pub fn name(self) -> &'static str {
        match self {
            Model::Device => "device",
            Model::User => "user",
            Model::Concurrent => "concurrent",
            Model::Subscription => "subscription",
            Model::Feature => "feature",
        }
    }

    /// All models in name order.
    pub const ALL: [Model; 5] = [Model::Concurrent, Model::Device, Model::Feature, Model::Subscription, Model::User];
}

impl serde::Serialize for Model {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Model {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Model, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Model::parse(&text)
            .ok_or_else(|| serde::de::Error::unknown_variant(&text, &["device", "user", "concurrent", "subscription", "feature"]))
    }
}

/// A catalog SKU.
#[derive(Debug, Clone)]
pub struct Sku {
    /// SKU id.
    pub id: String,
    /// Vendor id.
    pub vendor: String,
    /// License model.
    pub model: Model,
    /// Base SKU index (feature SKUs only).
    pub base: Option<usize>,
}

/// An entitlement row.
#[derive(Debug, Clone)]
pub struct Entitlement {
    /// Entitlement id.
    pub id: String,
    /// SKU index.
    pub sku: usize,
    /// Quantity (≥ 0).
    pub quantity: i64,
    /// First day in force (inclusive).
    pub starts_on: Date,
    /// Last day in force (inclusive), `None` = open-ended.
    pub ends_on: Option<Date>,
    /// The row as canonical JSON data (for the evidence pack).
    pub record: Value,
    /// Where the row is (file, line, `quantity`): errors about sums name it.
    pub location: Location,
}

impl Entitlement {
    /// Whether the entitlement is in force on `day`.
    pub fn active_on(&self, day: Date) -> bool {
        self.starts_on <= day && self.ends_on.is_none_or(|e| day <= e)
    }
}

/// Where a pool applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Everywhere.
    Global,
    /// Principals of one region.
    Region(String),
    /// Principals of one business unit.
    Bu(String),
}

impl Scope {
    fn parse(s: &str) -> Option<Scope> {
        if s == "global" {
            Some(Scope::Global)
        } else if let Some(v) = s.strip_prefix("region:") {
            Some(Scope::Region(v.to_string()))
        } else {
            s.strip_prefix("bu:").map(|v| Scope::Bu(v.to_string()))
        }
    }

    /// The contract's text form.
    pub fn to_text(&self) -> String {
        match self {
            Scope::Global => "global".into(),
            Scope::Region(v) => format!("region:{v}"),
            Scope::Bu(v) => format!("bu:{v}"),
        }
    }
}

/// A license pool.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Pool id.
    pub id: String,
    /// SKU index.
    pub sku: usize,
    /// Scope.
    pub scope: Scope,
    /// Pool quantity (empty = 0 for counting).
    pub quantity: i64,
    /// Reserved units.
    pub reserved: i64,
    /// Where the row is (file, line): errors about sums name it.
    pub location: Location,
}

/// A directory row.
#[derive(Debug, Clone)]
pub struct DirectoryRow {
    /// 1-based line in `directory.csv`.
    pub line: u64,
    /// `user` or `device`.
    pub is_device: bool,
    /// Canonical id as written (trimmed).
    pub canonical_id: String,
    /// Alias as written (trimmed), may be empty.
    pub alias: String,
    /// `active` / `disabled` / other text.
    pub status: String,
    /// Region attribute.
    pub region: String,
    /// Business-unit attribute.
    pub bu: String,
    /// Last activity of the principal: an RFC 3339 instant normalised to UTC
    /// (`YYYY-MM-DDTHH:MM:SS[.f]Z`), or empty when unknown (the column is
    /// absent, the cell is empty, or the row comes from a pack written before
    /// the column was kept). The advisor reads it (DESIGN C3 `reclaim_inactive`);
    /// counting never does.
    pub last_active_at: String,
}

/// Catalog, entitlements, pools and directory of a bundle.
#[derive(Debug, Clone, Default)]
pub struct MasterData {
    /// Vendors as given (canonical JSON data, sorted by id).
    pub vendors: Vec<Value>,
    /// SKUs sorted by id.
    pub skus: Vec<Sku>,
    /// SKU records as given (canonical JSON data, sorted by id).
    pub sku_records: Vec<Value>,
    /// Entitlements in file order.
    pub entitlements: Vec<Entitlement>,
    /// Pools sorted by id.
    pub pools: Vec<Pool>,
    /// Directory rows in file order.
    pub directory: Vec<DirectoryRow>,
    /// Every SKU id the catalog declares, valid or not (so a ruleset mapping
    /// to a SKU with, say, an unknown model is a catalog problem, not a
    /// ruleset one).
    pub declared_sku_ids: BTreeSet<String>,
}

impl MasterData {
    /// Index of SKU `id`.
    pub fn sku_index(&self, id: &str) -> Option<usize> {
        self.skus.binary_search_by(|s| s.id.as_str().cmp(id)).ok()
    }
}

/// The largest quantity (and any sum of quantities): 2^53 − 1, the largest
/// integer canonical JSON holds exactly (DESIGN A5).
pub(crate) const MAX_QUANTITY: i64 = crate::canon::canonical::MAX_SAFE_INTEGER;

fn integrity(loc: Location, msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::CatalogIntegrity, msg).at(loc)
}

/// The SKU fields the catalog defines; the engine keeps these only.
pub(crate) const SKU_FIELDS: &[&str] = &["id", "vendor", "sku_code", "name", "model", "unit_cost", "cost_period", "currency", "base_sku"];
/// SKU fields that must be strings (or null) when present.
const SKU_TEXT_FIELDS: &[&str] = &["id", "vendor", "sku_code", "name", "model", "cost_period", "currency", "base_sku"];
/// The vendor fields the catalog defines; the engine keeps these only.
pub(crate) const VENDOR_FIELDS: &[&str] = &["id", "name", "contacts"];
/// Vendor fields that must be strings (or null) when present.
const VENDOR_TEXT_FIELDS: &[&str] = &["id", "name"];
/// The fields of a vendor contact the engine keeps (requirement 7.1 "support
/// contacts", seed 003's contact name, e-mail and phone, plus a role); any
/// other field of a contact — a password, a token — is dropped on reading,
/// so it reaches no artifact (docs/semantics.md).
pub(crate) const CONTACT_FIELDS: &[&str] = &["name", "email", "role", "phone"];

/// The known `keys` of an object, in a new object.
fn pick(v: &Value, keys: &[&str]) -> Value {
    let mut m = serde_json::Map::new();
    for k in keys {
        if let Some(x) = v.get(*k) {
            m.insert((*k).to_string(), x.clone());
        }
    }
    Value::Object(m)
}

/// Fields of `v` named in `text_fields` must be strings or null.
fn check_types(file: &str, path: &str, v: &Value, text_fields: &[&str], errors: &mut Vec<Error>) {
    for f in text_fields {
        if let Some(x) = v.get(*f) {
            if !(x.is_string() || x.is_null()) {
                errors.push(integrity(Location::file(file).with_field(format!("{path}.{f}")), format!("`{f}` must be a string")));
            }
        }
    }
}

/// A vendor with its known fields only; `contacts` an array of objects with
/// the known contact fields only (strings or null).
fn vendor_record(file: &str, path: &str, v: &Value, errors: &mut Vec<Error>) -> Value {
    let mut rec = pick(v, VENDOR_FIELDS);
    match v.get("contacts") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            let mut kept = Vec::with_capacity(list.len());
            for (j, c) in list.iter().enumerate() {
                let cpath = format!("{path}.contacts[{j}]");
                if !c.is_object() {
                    errors.push(integrity(Location::file(file).with_field(cpath), "a contact must be an object"));
                    continue;
                }
                check_types(file, &cpath, c, CONTACT_FIELDS, errors);
                kept.push(pick(c, CONTACT_FIELDS));
            }
            rec["contacts"] = Value::Array(kept);
        }
        Some(_) => errors.push(integrity(Location::file(file).with_field(format!("{path}.contacts")), "`contacts` must be an array")),
    }
    rec
}

/// Parse `catalog.json` (already read as JSON). Problems are pushed to
/// `errors`; structurally unusable input is an `invalid_input` error.
pub(crate) fn parse_catalog(file: &str, doc: &Value, errors: &mut Vec<Error>) -> Result<MasterData> {
    let bad = |path: &str, msg: &str| Error::new(ErrorCode::InvalidInput, msg.to_string()).at(Location::file(file).with_field(path));
    let obj = doc.as_object().ok_or_else(|| bad("$", "expected an object with `vendors` and `skus`"))?;
    let vendors = obj.get("vendors").and_then(Value::as_array).ok_or_else(|| bad("$.vendors", "expected an array"))?;
    let skus = obj.get("skus").and_then(Value::as_array).ok_or_else(|| bad("$.skus", "expected an array"))?;

    let mut vendor_ids = BTreeSet::new();
    let mut vendor_records = Vec::new();
    for (i, v) in vendors.iter().enumerate() {
        let path = format!("$.vendors[{i}]");
        let Some(id) = v.get("id").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()) else {
            errors.push(integrity(Location::file(file).with_field(format!("{path}.id")), "vendor needs a non-empty string `id`"));
            continue;
        };
        if !vendor_ids.insert(id.to_string()) {
            errors.push(integrity(Location::file(file).with_field(format!("{path}.id")), format!("duplicate vendor id `{id}`")));
        }
        check_types(file, &path, v, VENDOR_TEXT_FIELDS, errors);
        vendor_records.push((id.to_string(), vendor_record(file, &path, v, errors)));
    }

    let mut parsed: Vec<(Sku, Option<String>, Value, String)> = Vec::new();
    let mut sku_ids = BTreeSet::new();
    for (i, s) in skus.iter().enumerate() {
        let path = format!("$.skus[{i}]");
        let loc = |f: &str| Location::file(file).with_field(format!("{path}.{f}"));
        let text = |f: &str| s.get(f).and_then(Value::as_str).map(str::trim).unwrap_or("");
        let id = text("id");
        if id.is_empty() {
            errors.push(integrity(loc("id"), "SKU needs a non-empty string `id`"));
            continue;
        }
        if !sku_ids.insert(id.to_string()) {
            errors.push(integrity(loc("id"), format!("duplicate SKU id `{id}`")));
            continue;
        }
        check_types(file, &path, s, SKU_TEXT_FIELDS, errors);
        match s.get("unit_cost") {
            None | Some(Value::Null) => {}
            Some(Value::String(c)) if crate::canon::numbers::Fixed9::parse(c.trim()).is_some() => {}
            Some(Value::String(_)) => errors.push(integrity(loc("unit_cost"), format!("SKU `{id}`: unit_cost must be a decimal string such as \"36.00\""))),
            Some(_) => errors.push(integrity(
                loc("unit_cost"),
                format!("SKU `{id}`: unit_cost must be a decimal string such as \"36.00\", not a JSON number or other type (no floats in hashed data)"),
            )),
        }
        let vendor = text("vendor");
        if !vendor_ids.contains(vendor) {
            errors.push(integrity(loc("vendor"), format!("SKU `{id}` names unknown vendor `{vendor}`")));
        }
        let Some(model) = Model::parse(text("model")) else {
            errors.push(integrity(
                loc("model"),
                format!("SKU `{id}` has unknown model (expected device, user, concurrent, subscription or feature)"),
            ));
            continue;
        };
        let base = match s.get("base_sku") {
            Some(Value::String(b)) if !b.trim().is_empty() => Some(b.trim().to_string()),
            _ => None,
        };
        if model == Model::Feature && base.is_none() {
            errors.push(integrity(loc("base_sku"), format!("feature SKU `{id}` needs a `base_sku`")));
        }
        parsed.push((Sku { id: id.to_string(), vendor: vendor.to_string(), model, base: None }, base, pick(s, SKU_FIELDS), path));
    }
    parsed.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let ids: Vec<String> = parsed.iter().map(|p| p.0.id.clone()).collect();
    let mut md = MasterData { declared_sku_ids: sku_ids, ..MasterData::default() };
    for (mut sku, base, record, path) in parsed {
        if sku.model == Model::Feature {
            if let Some(b) = base {
                match ids.binary_search(&b) {
                    Ok(bi) => sku.base = Some(bi),
                    Err(_) => errors.push(integrity(
                        Location::file(file).with_field(format!("{path}.base_sku")),
                        format!("feature SKU `{}` names unknown base SKU `{b}`", sku.id),
                    )),
                }
            }
        }
        md.skus.push(sku);
        md.sku_records.push(record);
    }
    // A base must be a subscription or user SKU.
    for i in 0..md.skus.len() {
        if let Some(b) = md.skus[i].base {
            if !matches!(md.skus[b].model, Model::Subscription | Model::User) {
                errors.push(integrity(
                    Location::file(file).with_field("base_sku"),
                    format!("feature SKU `{}`: base `{}` is not a subscription or user SKU", md.skus[i].id, md.skus[b].id),
                ));
            }
        }
    }
    vendor_records.sort_by(|a, b| a.0.cmp(&b.0));
    md.vendors = vendor_records.into_iter().map(|v| v.1).collect();
    Ok(md)
}

/// Read `entitlements.csv` into `md`.
pub(crate) fn read_entitlements<R: Read>(
    file: &str,
    input: HashingReader<R>,
    md: &mut MasterData,
    errors: &mut Vec<Error>,
) -> Result<HashingReader<R>> {
    let mut t = CsvTable::new(file, input)?;
    if t.is_empty_input() {
        return Err(Error::new(ErrorCode::InvalidInput, "empty file: the header row is required").at(Location::file(file)));
    }
    let header = t.header().to_vec();
    let cols = t.require(&["entitlement_id", "sku", "quantity", "starts_on", "ends_on"])?;
    let extra: Vec<Option<usize>> = ["contract_id", "unit_cost", "currency"].iter().map(|c| t.column(c)).collect();
    let mut ids = BTreeSet::new();
    while let Some((line, rec)) = t.next_record()? {
        let get = |i: usize| field(file, line, &header, rec, i);
        let loc = |f: &str| Location::line(file, line).with_field(f);
        let id = get(cols[0])?.to_string();
        let sku = get(cols[1])?;
        let qty = get(cols[2])?;
        let (starts, ends) = (get(cols[3])?, get(cols[4])?);
        let mut ok = true;
        if id.is_empty() {
            errors.push(integrity(loc("entitlement_id"), "entitlement_id is empty"));
            ok = false;
        } else if !ids.insert(id.clone()) {
            errors.push(integrity(loc("entitlement_id"), format!("duplicate entitlement id `{id}`")));
            ok = false;
        }
        let sku_index = md.sku_index(sku);
        if sku_index.is_none() {
            errors.push(integrity(loc("sku"), format!("entitlement `{id}` names unknown SKU `{sku}`")));
            ok = false;
        }
        let quantity = match parse_integer(qty) {
            Some(q) if (0..=MAX_QUANTITY).contains(&q) => q,
            Some(q) if q > MAX_QUANTITY => {
                errors.push(integrity(
                    loc("quantity"),
                    format!("entitlement `{id}`: quantity is larger than {MAX_QUANTITY} (the largest exact JSON integer)"),
                ));
                ok = false;
                0
            }
            _ => {
                errors.push(integrity(loc("quantity"), format!("entitlement `{id}`: quantity must be a non-negative integer")));
                ok = false;
                0
            }
        };
        let starts_on = Date::parse(starts);
        if starts_on.is_none() {
            errors.push(integrity(loc("starts_on"), format!("entitlement `{id}`: starts_on must be a YYYY-MM-DD date")));
            ok = false;
        }
        let ends_on = if ends.is_empty() { None } else { Date::parse(ends) };
        if !ends.is_empty() && ends_on.is_none() {
            errors.push(integrity(loc("ends_on"), format!("entitlement `{id}`: ends_on must be a YYYY-MM-DD date or empty")));
            ok = false;
        }
        if !ok {
            continue;
        }
        let opt_text = |i: Option<usize>| -> Result<Value> {
            Ok(match i {
                Some(i) => Value::String(get(i)?.to_string()),
                None => Value::String(String::new()),
            })
        };
        let record = serde_json::json!({
            "entitlement_id": id,
            "sku": sku,
            "contract_id": opt_text(extra[0])?,
            "quantity": quantity,
            "starts_on": starts,
            "ends_on": if ends.is_empty() { Value::Null } else { Value::String(ends.to_string()) },
            "unit_cost": opt_text(extra[1])?,
            "currency": opt_text(extra[2])?,
        });
        let (Some(sku), Some(starts_on)) = (sku_index, starts_on) else { continue };
        md.entitlements.push(Entitlement { id, sku, quantity, starts_on, ends_on, record, location: loc("quantity") });
    }
    Ok(t.into_inner())
}

/// Read `pools.csv` into `md` (sorted by pool id).
pub(crate) fn read_pools<R: Read>(
    file: &str,
    input: HashingReader<R>,
    md: &mut MasterData,
    errors: &mut Vec<Error>,
) -> Result<HashingReader<R>> {
    let mut t = CsvTable::new(file, input)?;
    if t.is_empty_input() {
        return Ok(t.into_inner());
    }
    let header = t.header().to_vec();
    let cols = t.require(&["pool_id", "sku", "scope", "quantity", "reserved"])?;
    let mut ids = BTreeSet::new();
    while let Some((line, rec)) = t.next_record()? {
        let get = |i: usize| field(file, line, &header, rec, i);
        let loc = |f: &str| Location::line(file, line).with_field(f);
        let (id, sku, scope, qty, reserved) = (get(cols[0])?, get(cols[1])?, get(cols[2])?, get(cols[3])?, get(cols[4])?);
        let mut ok = true;
        if id.is_empty() || !ids.insert(id.to_string()) {
            errors.push(integrity(loc("pool_id"), format!("pool id `{id}` is empty or duplicated")));
            ok = false;
        }
        let sku_index = md.sku_index(sku);
        if sku_index.is_none() {
            errors.push(integrity(loc("sku"), format!("pool `{id}` names unknown SKU `{sku}`")));
            ok = false;
        }
        let scope = Scope::parse(scope);
        if scope.is_none() {
            errors.push(integrity(loc("scope"), format!("pool `{id}`: scope must be global, region:<v> or bu:<v>")));
            ok = false;
        }
        let mut num = |text: &str, name: &str| -> i64 {
            if text.is_empty() {
                return 0;
            }
            match parse_integer(text) {
                Some(v) if (0..=MAX_QUANTITY).contains(&v) => v,
                Some(v) if v > MAX_QUANTITY => {
                    errors.push(integrity(
                        loc(name),
                        format!("pool `{id}`: {name} is larger than {MAX_QUANTITY} (the largest exact JSON integer)"),
                    ));
                    ok = false;
                    0
                }
                _ => {
                    errors.push(integrity(loc(name), format!("pool `{id}`: {name} must be a non-negative integer")));
                    ok = false;
                    0
                }
            }
        };
        let quantity = num(qty, "quantity");
        let reserved = num(reserved, "reserved");
        if let (true, Some(sku), Some(scope)) = (ok, sku_index, scope) {
            md.pools.push(Pool { id: id.to_string(), sku, scope, quantity, reserved, location: Location::line(file, line) });
        }
    }
    md.pools.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(t.into_inner())
}

/// The directory's row rule (DESIGN A1), in one place: `principal_type` is
/// `user` or `device`, `canonical_id` is not empty, and a device's values are
/// written `serial:V`, `id:V` or `name:V` (the alias may be empty).
/// `directory.csv` rows and the identity facts adapters report (which a
/// replay reads back from the pack's `directory.json`) both go through it.
/// Returns whether the principal is a device, or each (field, message) the
/// row breaks.
pub(crate) fn check_directory_row(
    principal_type: &str,
    canonical_id: &str,
    alias: &str,
) -> std::result::Result<bool, Vec<(&'static str, &'static str)>> {
    let is_device = match principal_type {
        "user" => false,
        "device" => true,
        _ => return Err(vec![("principal_type", "principal_type must be `user` or `device`")]),
    };
    if canonical_id.trim().is_empty() {
        return Err(vec![("canonical_id", "canonical_id is empty")]);
    }
    if is_device {
        let typed = |v: &str| v.is_empty() || DeviceKeyPrefix::ALL.iter().any(|p| v.starts_with(p.prefix()));
        let broken: Vec<_> = [("canonical_id", canonical_id), ("alias", alias)]
            .into_iter()
            .filter(|(_, v)| !typed(v))
            .map(|(f, _)| (f, "device values must be written serial:V, id:V or name:V"))
            .collect();
        if !broken.is_empty() {
            return Err(broken);
        }
    }
    Ok(is_device)
}

/// A directory `last_active_at` value (DESIGN A1): empty (= unknown), or an
/// RFC 3339 instant with an offset, returned normalised to UTC as the pack
/// writes every instant, so that a replay, which reads the normalised text
/// back, renders the same bytes. The value is never echoed in the message (a
/// misplaced column could put anything there).
pub(crate) fn normalize_last_active_at(value: &str) -> std::result::Result<String, &'static str> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    match Instant::parse(v) {
        Ok(at) => {
            let text = at.to_string();
            // An instant whose UTC form leaves the four-digit years (0000-01-01
            // with a positive offset) could not be read back from the pack.
            if Instant::parse(&text) == Ok(at) {
                Ok(text)
            } else {
                Err("last_active_at is out of range once normalised to UTC")
            }
        }
        Err(InstantError::NoOffset) => Err("last_active_at has no UTC offset (write Z or ±HH:MM)"),
        Err(InstantError::Malformed) => Err("last_active_at must be an RFC 3339 instant (e.g. 2026-11-21T17:42:00Z) or empty"),
    }
}

/// Read `directory.csv` into `md`.
pub(crate) fn read_directory<R: Read>(
    file: &str,
    input: HashingReader<R>,
    md: &mut MasterData,
    errors: &mut Vec<Error>,
) -> Result<HashingReader<R>> {
    let mut t = CsvTable::new(file, input)?;
    if t.is_empty_input() {
        return Ok(t.into_inner());
    }
    let header = t.header().to_vec();
    let cols = t.require(&["principal_type", "canonical_id", "alias"])?;
    let opt: Vec<Option<usize>> = ["status", "region", "bu", "last_active_at"].iter().map(|c| t.column(c)).collect();
    while let Some((line, rec)) = t.next_record()? {
        let get = |i: usize| field(file, line, &header, rec, i);
        let get_opt = |i: Option<usize>| -> Result<String> { Ok(i.map(get).transpose()?.unwrap_or("").to_string()) };
        let loc = |f: &str| Location::line(file, line).with_field(f);
        let ptype = get(cols[0])?;
        // The other values are read (and must be UTF-8) only for a known type.
        let (canonical_id, alias) = match ptype {
            "user" | "device" => (get(cols[1])?.to_string(), get(cols[2])?.to_string()),
            _ => (String::new(), String::new()),
        };
        let is_device = match check_directory_row(ptype, &canonical_id, &alias) {
            Ok(is_device) => is_device,
            Err(broken) => {
                errors.extend(broken.into_iter().map(|(f, msg)| integrity(loc(f), msg)));
                continue;
            }
        };
        let last_active_at = match normalize_last_active_at(&get_opt(opt[3])?) {
            Ok(v) => v,
            Err(msg) => {
                errors.push(integrity(loc("last_active_at"), msg));
                continue;
            }
        };
        md.directory.push(DirectoryRow {
            line,
            is_device,
            canonical_id,
            alias,
            status: get_opt(opt[0])?,
            region: get_opt(opt[1])?,
            bu: get_opt(opt[2])?,
            last_active_at,
        });
    }
    Ok(t.into_inner())
}

/// Pools grouped by SKU index, in pool-id order.
pub(crate) fn pools_by_sku(md: &MasterData) -> BTreeMap<usize, Vec<usize>> {
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, p) in md.pools.iter().enumerate() {
        out.entry(p.sku).or_default().push(i);
    }
    out
}

// ------------------------------------------------------------------------------------------
// The evidence pack's JSON forms of the tables (known columns only, so nothing
// an input carried beside them — a license key, say — reaches the pack).

/// Entitlements as JSON records, in file order.
pub(crate) fn entitlements_json(md: &MasterData) -> Value {
    Value::Array(md.entitlements.iter().map(|e| e.record.clone()).collect())
}

/// Pools as JSON records, in pool-id order.
pub(crate) fn pools_json(md: &MasterData) -> Value {
    Value::Array(
        md.pools
            .iter()
            .map(|p| {
                serde_json::json!({"pool_id": p.id, "sku": md.skus[p.sku].id, "scope": p.scope.to_text(),
                                   "quantity": p.quantity, "reserved": p.reserved})
            })
            .collect(),
    )
}

/// Directory rows (adapter identity facts included) as JSON records, in order.
///
/// `status`, `region` and `bu` are always written (empty = none).
/// `last_active_at` is written only when known: packs written before the
/// column was kept have no such key, and a replay reads a missing key as
/// unknown and renders it missing again, so those packs still verify byte
/// for byte (DESIGN C6, "Pack fields this needs").
pub(crate) fn directory_json(md: &MasterData) -> Value {
    Value::Array(
        md.directory
            .iter()
            .map(|r| {
                let mut row = serde_json::json!({"principal_type": if r.is_device { "device" } else { "user" },
                                   "canonical_id": r.canonical_id, "alias": r.alias, "status": r.status,
                                   "region": r.region, "bu": r.bu});
                if !r.last_active_at.is_empty() {
                    row["last_active_at"] = Value::String(r.last_active_at.clone());
                }
                row
            })
            .collect(),
    )
}

/// The catalog with known fields only (vendors, contacts and SKUs were cut
/// to their known fields when read).
pub(crate) fn catalog_json(md: &MasterData) -> Value {
    serde_json::json!({
        "vendors": md.vendors.iter().map(|v| pick(v, VENDOR_FIELDS)).collect::<Vec<_>>(),
        "skus": md.sku_records.iter().map(|s| pick(s, SKU_FIELDS)).collect::<Vec<_>>(),
    })
}

fn text_of(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Load tables from their pack JSON forms into `md` (replay), with the same
/// integrity rules as the CSV readers.
pub(crate) fn tables_from_json(file_prefix: &str, ents: &Value, pools: &Value, dir: &Value, md: &mut MasterData, errors: &mut Vec<Error>) {
    // Entitlements and pools go back through CSV text so that one reader, with
    // one set of rules, serves both forms.
    let csv_of = |rows: &Value, cols: &[&str]| -> Vec<u8> {
        let mut out = cols.join(",");
        out.push('\n');
        for r in rows.as_array().into_iter().flatten() {
            let cells: Vec<String> = cols
                .iter()
                .map(|c| {
                    let t = text_of(r, c);
                    if t.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", t.replace('"', "\"\""))
                    } else {
                        t
                    }
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out.into_bytes()
    };
    let ent_cols = ["entitlement_id", "sku", "contract_id", "quantity", "starts_on", "ends_on", "unit_cost", "currency"];
    let bytes = csv_of(ents, &ent_cols);
    if let Err(e) = read_entitlements(&format!("{file_prefix}entitlements.json"), HashingReader::new(bytes.as_slice()), md, errors) {
        errors.push(e);
    }
    let bytes = csv_of(pools, &["pool_id", "sku", "scope", "quantity", "reserved"]);
    if let Err(e) = read_pools(&format!("{file_prefix}pools.json"), HashingReader::new(bytes.as_slice()), md, errors) {
        errors.push(e);
    }
    let bytes = csv_of(dir, &["principal_type", "canonical_id", "alias", "status", "region", "bu", "last_active_at"]);
    if let Err(e) = read_directory(&format!("{file_prefix}directory.json"), HashingReader::new(bytes.as_slice()), md, errors) {
        errors.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_last_active_at;

    #[test]
    fn last_active_at_is_normalised_to_utc_or_refused() {
        assert_eq!(normalize_last_active_at(" 2026-11-21T18:42:00+01:00 ").unwrap(), "2026-11-21T17:42:00Z");
        assert_eq!(normalize_last_active_at("2026-11-21T17:42:00.1230Z").unwrap(), "2026-11-21T17:42:00.123Z");
        assert_eq!(normalize_last_active_at("").unwrap(), "");
        assert_eq!(normalize_last_active_at("   ").unwrap(), "");
        assert!(normalize_last_active_at("2026-11-21 17:42").unwrap_err().contains("RFC 3339"));
        assert!(normalize_last_active_at("2026-11-21T17:42:00").unwrap_err().contains("offset"));
        assert!(normalize_last_active_at("0000-01-01T00:30:00+01:00").is_err());
    }
}
