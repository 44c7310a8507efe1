//! Deterministic synthetic workloads for EUCORA License benchmarks.
//!
//! [`generate`] writes one complete bundle (DESIGN A1): `bundle.json`,
//! `ruleset.json`, `catalog.json`, `entitlements.csv`, `pools.csv`,
//! `directory.csv` and `signals/{intune,sccm,jamf,entra,flexlm}.csv`, shaped
//! like one large enterprise:
//!
//! * the same device is reported by several sources — Intune (serial, device
//!   id, hostname), SCCM (serial and device id, `DOMAIN\user`; hostname only
//!   for devices with a placeholder serial), Jamf (serial, hostname) — and the
//!   same installation `(device, slot)` maps to the same SKU in every source;
//! * ~5 % of Windows devices carry a placeholder serial (`To Be Filled By
//!   O.E.M.`, `0`, `Default string`, …) and are joined by hostname fallback;
//! * Entra reports licence assignments per user (UPN), FlexLM reports
//!   sessions (user + FQDN hostname) for concurrent SKUs;
//! * `observed_at` spreads over the last 120 days, so some rows fall outside
//!   the lookbacks; a few rows carry unknown products (`unmapped_product`).
//!
//! Everything is a pure function of [`Config`]: a hand-written SplitMix64,
//! no clock, no hash-map iteration. The same flags give byte-identical files,
//! and the total number of signal rows is exactly `Config::signals`.

pub mod adapter_inputs;

use eucora_license_core::internal::time::Date;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// `as_of` of every generated bundle.
pub const AS_OF: &str = "2026-11-22T06:00:00Z";
/// Sources, in the order their files are written.
pub const SOURCES: [&str; 5] = ["intune", "sccm", "jamf", "entra", "flexlm"];

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
const HEADER: &str = "source,raw_id,observed_at,sku,product,kind,status,user,device_serial,device_id,device_name,last_used_at,session_start,session_end,quantity,confidence\n";
const PLACEHOLDERS: [&str; 4] = ["To Be Filled By O.E.M.", "0", "Default string", "System Serial Number"];
const REGIONS: [&str; 3] = ["emea", "na", "apac"];
const BUS: [&str; 5] = ["engineering", "finance", "sales", "marketing", "operations"];
const GIVEN: [&str; 16] =
    ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "ken", "leo", "mia", "nina", "oscar", "peggy"];
const FAMILY: [&str; 16] = [
    "smith", "jones", "white", "miller", "chen", "lopez", "kim", "novak", "petrov", "park", "osei", "rossi", "santos", "berg", "tanaka",
    "weber",
];

/// Workload size and seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Total signal rows over all five source files (exact).
    pub signals: u64,
    /// Devices in the estate.
    pub devices: u32,
    /// Users in the estate.
    pub users: u32,
    /// Catalog SKUs (at least 5).
    pub skus: u32,
    /// PRNG seed.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { signals: 1_000_000, devices: 200_000, users: 60_000, skus: 500, seed: 1 }
    }
}

impl Config {
    /// A small workload (for in-memory benchmarks and tests).
    pub fn small(signals: u64) -> Self {
        Config {
            signals,
            devices: (signals / 5).max(1) as u32,
            users: (signals / 16).max(1) as u32,
            skus: ((signals / 1000).clamp(5, 500)) as u32,
            seed: 1,
        }
    }

    fn validate(&self) -> io::Result<()> {
        let bad = |m: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, m.to_string()));
        if self.devices == 0 {
            return bad("--devices must be at least 1");
        }
        if self.users == 0 {
            return bad("--users must be at least 1");
        }
        if self.skus < 5 {
            return bad("--skus must be at least 5 (one per licence model)");
        }
        Ok(())
    }
}

/// Where generated files go.
pub trait Sink {
    /// The writer of one file.
    type W: Write;
    /// Start the file at `path` (bundle-relative, `/`-separated).
    fn create(&mut self, path: &str) -> io::Result<Self::W>;
    /// Complete the file.
    fn finish(&mut self, path: &str, w: Self::W) -> io::Result<()>;
}

/// Files under a directory, written through 1 MiB buffers.
pub struct DirSink {
    root: PathBuf,
}

impl DirSink {
    /// A sink rooted at `root` (created as needed).
    pub fn new(root: impl AsRef<Path>) -> Self {
        DirSink { root: root.as_ref().to_path_buf() }
    }
}

impl Sink for DirSink {
    type W = BufWriter<File>;
    fn create(&mut self, path: &str) -> io::Result<Self::W> {
        let p = self.root.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        Ok(BufWriter::with_capacity(1 << 20, File::create(p)?))
    }
    fn finish(&mut self, _path: &str, w: Self::W) -> io::Result<()> {
        w.into_inner().map_err(|e| e.into_error())?.sync_all().or(Ok(()))
    }
}

/// Files held in memory, path → bytes.
#[derive(Debug, Default)]
pub struct MemorySink {
    /// The generated files.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Sink for MemorySink {
    type W = Vec<u8>;
    fn create(&mut self, _path: &str) -> io::Result<Self::W> {
        Ok(Vec::new())
    }
    fn finish(&mut self, path: &str, w: Self::W) -> io::Result<()> {
        self.files.insert(path.to_string(), w);
        Ok(())
    }
}

/// Generate a workload into memory.
pub fn generate_in_memory(cfg: &Config) -> io::Result<BTreeMap<String, Vec<u8>>> {
    let mut sink = MemorySink::default();
    generate(cfg, &mut sink)?;
    Ok(sink.files)
}

/// Generate a workload into an [`eucora_license_core::MemoryBundle`].
pub fn memory_bundle(cfg: &Config) -> io::Result<eucora_license_core::MemoryBundle> {
    let mut b = eucora_license_core::MemoryBundle::default();
    for (path, bytes) in generate_in_memory(cfg)? {
        b.insert(path, bytes);
    }
    Ok(b)
}

/// Rows written per file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// (path, data rows) in write order.
    pub files: Vec<(String, u64)>,
}

impl Summary {
    /// Signal rows over all `signals/` files.
    pub fn signals(&self) -> u64 {
        self.files.iter().filter(|(p, _)| p.starts_with("signals/")).map(|(_, n)| n).sum()
    }
}

// ------------------------------------------------------------------------------------------
// PRNG

/// A version-4-shaped UUID from 64 random bits (the low half is mixed from the high).
pub fn write_uuid(out: &mut String, hi: u64) {
    let lo = mix64(hi);
    let _ = write!(
        out,
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xfff,
        0x8000 | (lo >> 48) & 0x3fff,
        lo & 0xffff_ffff_ffff
    );
}

/// SplitMix64 finaliser: a bijective 64-bit mixer.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64 stream.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream seeded by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(mix64(seed))
    }
    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    /// True with probability `per_mille / 1000`.
    #[inline]
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    /// Index in `0..n`, skewed toward 0 (popular items first, every item reachable).
    #[inline]
    pub fn skewed(&mut self, n: u64) -> u64 {
        if self.chance(300) {
            return self.below(n);
        }
        let m = (n as u128) << 16;
        let x = (self.next_u64() as u128 * m) >> 64;
        ((x * x * n as u128) / (m * m)) as u64
    }
}

/// A stateless hash of a seed, a tag and two coordinates.
#[inline]
fn h3(seed: u64, tag: u64, a: u64, b: u64) -> u64 {
    mix64(mix64(mix64(seed ^ tag.wrapping_mul(0xD6E8_FEB8_6659_FD93)) ^ a) ^ b.wrapping_mul(0xA076_1D64_78BD_642F))
}

// ------------------------------------------------------------------------------------------
// Time

/// `as_of` in Unix seconds.
fn as_of_secs() -> i64 {
    Date::parse("2026-11-22").expect("valid date").0 * DAY + 6 * HOUR
}

/// RFC 3339: `t` Unix seconds, `ms` milliseconds (written when non-zero),
/// shown at `offset_min` minutes east of UTC.
fn push_instant(out: &mut String, t: i64, ms: u32, offset_min: i32) {
    let local = t + offset_min as i64 * 60;
    let day = Date(local.div_euclid(DAY));
    let s = local.rem_euclid(DAY);
    let _ = write!(out, "{day}T{:02}:{:02}:{:02}", s / HOUR, (s % HOUR) / 60, s % 60);
    if ms != 0 {
        let _ = write!(out, ".{ms:03}");
    }
    if offset_min == 0 {
        out.push('Z');
    } else {
        let sign = if offset_min < 0 { '-' } else { '+' };
        let a = offset_min.abs();
        let _ = write!(out, "{sign}{:02}:{:02}", a / 60, a % 60);
    }
}

fn date(t: i64) -> String {
    Date(t.div_euclid(DAY)).to_string()
}

// ------------------------------------------------------------------------------------------
// The estate

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Model {
    Device,
    User,
    Subscription,
    Feature,
    Concurrent,
}

impl Model {
    fn name(self) -> &'static str {
        match self {
            Model::Device => "device",
            Model::User => "user",
            Model::Subscription => "subscription",
            Model::Feature => "feature",
            Model::Concurrent => "concurrent",
        }
    }
}

struct Vendor {
    id: &'static str,
    name: &'static str,
    code: &'static str,
}

const VENDORS: [Vendor; 5] = [
    Vendor { id: "microsoft", name: "Microsoft", code: "MS" },
    Vendor { id: "adobe", name: "Adobe", code: "ADBE" },
    Vendor { id: "autodesk", name: "Autodesk", code: "ADSK" },
    Vendor { id: "jetbrains", name: "JetBrains", code: "JB" },
    Vendor { id: "mathworks", name: "MathWorks", code: "MW" },
];

struct Sku {
    id: String,
    vendor: usize,
    model: Model,
    code: String,
    /// Display name; for mapped SKUs, the prefix the ruleset maps.
    name: String,
    cost_cents: u64,
    base: Option<u32>,
    /// Reported by product name (mapped by the ruleset) instead of SKU id.
    mapped: bool,
}

struct World {
    cfg: Config,
    as_of: i64,
    skus: Vec<Sku>,
    /// SKU indices of device + user models (reported as installations).
    installable: Vec<u32>,
    /// SKU indices of subscription / feature / user models (assigned in Entra).
    assignable: Vec<u32>,
    subscriptions: Vec<u32>,
    concurrent: Vec<u32>,
    core: u32,
    windows: Vec<u32>,
    macs: Vec<u32>,
    /// Windows devices plus the Macs co-managed by Intune.
    intune: Vec<u32>,
    /// Estimate of consumption: (sku << 32 | principal) per qualifying row.
    marks: Vec<u64>,
    /// Concurrent session events per SKU (time, +/- quantity).
    sessions: Vec<Vec<(i64, i64)>>,
}

const T_MAC: u64 = 1;
const T_DUAL: u64 = 2;
const T_PH: u64 = 3;
const T_APP: u64 = 4;
const T_AGE: u64 = 5;
const T_UALIAS: u64 = 6;
const T_DALIAS: u64 = 7;
const T_FORM: u64 = 8;
const T_ATTR: u64 = 9;
const T_CAT: u64 = 10;
const T_ENT: u64 = 11;
const T_DEV: u64 = 12;

impl World {
    fn new(cfg: &Config) -> World {
        let seed = cfg.seed;
        let s = cfg.skus as u64;
        // Model mix: 20 % subscription, 25 % user, 10 % feature, 15 % concurrent, rest device.
        let n_sub = (s * 20 / 100).max(1);
        let n_user = (s * 25 / 100).max(1);
        let n_feat = (s * 10 / 100).max(1);
        let n_conc = (s * 15 / 100).max(1);
        let n_dev = s - n_sub - n_user - n_feat - n_conc;
        let width = (s.to_string().len()).max(4);
        let mut rng = Rng::new(seed ^ T_CAT);
        let mut skus = Vec::with_capacity(s as usize);
        let plan = [
            (Model::Subscription, n_sub, "Cloud Suite", "SUB"),
            (Model::User, n_user, "Studio", "USR"),
            (Model::Feature, n_feat, "Add-on", "ADD"),
            (Model::Concurrent, n_conc, "Network", "NC"),
            (Model::Device, n_dev, "Desktop", "DEV"),
        ];
        let mut mapped_per_model = [0u32; 5];
        for (model, n, word, code) in plan {
            for k in 0..n {
                let i = skus.len() as u64;
                // Concurrent SKUs come mostly from engineering vendors.
                let vendor = if model == Model::Concurrent { [4, 2, 4, 3][(k % 4) as usize] } else { (i % 5) as usize };
                let v = &VENDORS[vendor];
                let mapped = mapped_per_model[model as usize] < 2 && k % 3 == 0;
                if mapped {
                    mapped_per_model[model as usize] += 1;
                }
                let cost_cents = match model {
                    Model::Subscription | Model::Feature | Model::User => 500 + rng.below(6_000),
                    Model::Device => 5_000 + rng.below(60_000),
                    Model::Concurrent => 50_000 + rng.below(300_000),
                };
                skus.push(Sku {
                    id: format!("{}-{}-{:0width$}", v.id, model.name(), i),
                    vendor,
                    model,
                    code: format!("{}_{}_{:0width$}", v.code, code, i),
                    name: format!("{} {} {:0width$}", v.name, word, i),
                    cost_cents,
                    base: None,
                    mapped,
                });
            }
        }
        let idx = |m: Model| -> Vec<u32> { skus.iter().enumerate().filter(|(_, k)| k.model == m).map(|(i, _)| i as u32).collect() };
        let subscriptions = idx(Model::Subscription);
        let users_m = idx(Model::User);
        let features = idx(Model::Feature);
        let concurrent = idx(Model::Concurrent);
        let devices_m = idx(Model::Device);
        let core = subscriptions[0];
        // Features: 80 % add-ons of the core suite, the rest of another subscription or user SKU.
        let bases: Vec<u32> = subscriptions.iter().chain(users_m.iter()).copied().collect();
        for &f in &features {
            let b = if rng.chance(800) { core } else { bases[rng.below(bases.len() as u64) as usize] };
            skus[f as usize].base = Some(b);
        }
        let mut installable = devices_m.clone();
        installable.extend(&users_m);
        let mut assignable = subscriptions.clone();
        assignable.extend(&features);
        assignable.extend(&users_m);

        let (mut windows, mut macs, mut intune) = (Vec::new(), Vec::new(), Vec::new());
        for d in 0..cfg.devices {
            if h3(seed, T_MAC, d as u64, 0) % 4 == 0 {
                macs.push(d);
                if h3(seed, T_DUAL, d as u64, 0) % 2 == 0 {
                    intune.push(d);
                }
            } else {
                windows.push(d);
                intune.push(d);
            }
        }
        // Tiny estates: every source still needs devices.
        if windows.is_empty() {
            windows = macs.clone();
        }
        if macs.is_empty() {
            macs = windows.clone();
        }
        let n = skus.len();
        World {
            cfg: cfg.clone(),
            as_of: as_of_secs(),
            skus,
            installable,
            assignable,
            subscriptions,
            concurrent,
            core,
            windows,
            macs,
            intune,
            marks: Vec::new(),
            sessions: vec![Vec::new(); n],
        }
    }

    fn h(&self, tag: u64, a: u64, b: u64) -> u64 {
        h3(self.cfg.seed, tag, a, b)
    }

    fn is_mac(&self, d: u32) -> bool {
        self.h(T_MAC, d as u64, 0) % 4 == 0
    }

    /// Placeholder serial of a Windows device (~5 %), if any.
    fn placeholder(&self, d: u32) -> Option<&'static str> {
        let h = self.h(T_PH, d as u64, 0);
        (!self.is_mac(d) && h % 20 == 0).then(|| PLACEHOLDERS[((h >> 8) % PLACEHOLDERS.len() as u64) as usize])
    }

    /// Unique serial (a bijection of the device index).
    fn serial(&self, d: u32, out: &mut String) {
        let x = d.wrapping_mul(0x9E37_79B1) ^ 0x5A5A_5A5A;
        let prefix = if self.is_mac(d) { "C02" } else { ["PF", "5CG", "MXL"][(self.h(T_DEV, d as u64, 1) % 3) as usize] };
        let _ = write!(out, "{prefix}{x:08X}");
    }

    /// Directory device id (a UUID whose first 64 bits are a bijection of the index).
    fn device_id(&self, d: u32, out: &mut String) {
        write_uuid(out, mix64(d as u64 ^ self.cfg.seed.rotate_left(32)));
    }

    fn hostname(&self, d: u32, out: &mut String) {
        let prefix = if self.is_mac(d) {
            "MBP"
        } else if self.h(T_DEV, d as u64, 2) % 10 < 7 {
            "LT"
        } else {
            "WS"
        };
        let _ = write!(out, "{prefix}-{d:07}");
    }

    fn primary_user(&self, d: u32) -> u32 {
        d % self.cfg.users
    }

    fn user_aliased(&self, u: u32) -> bool {
        self.h(T_UALIAS, u as u64, 0) % 16 == 0
    }

    fn upn(&self, u: u32, out: &mut String) {
        let _ = write!(out, "user{u:06}@acme.com");
    }

    fn email(&self, u: u32, out: &mut String) {
        let _ = write!(out, "{}.{}.{u:06}@acme.com", GIVEN[(u % 16) as usize], FAMILY[((u / 16) % 16) as usize]);
    }

    fn sam(&self, u: u32, out: &mut String) {
        let _ = write!(out, "user{u:06}");
    }

    /// SKU installed in slot `slot` of device `d` (the same in every source).
    fn app(&self, d: u32, slot: u64) -> u32 {
        let mut r = Rng::new(self.h(T_APP, d as u64, slot));
        self.installable[r.skewed(self.installable.len() as u64) as usize]
    }

    /// Age of the installation `(d, slot)` at `as_of`, shared by every source.
    fn pair_age(&self, d: u32, slot: u64) -> i64 {
        let h = self.h(T_AGE, d as u64, slot);
        let (r, x) = ((h % 100) as i64, (h >> 8) as i64);
        if r < 75 {
            HOUR + x % (25 * DAY)
        } else if r < 90 {
            25 * DAY + x % (35 * DAY)
        } else {
            60 * DAY + x % (60 * DAY)
        }
    }

    fn mark(&mut self, sku: u32, principal: u32) {
        self.marks.push(((sku as u64) << 32) | principal as u64);
    }

    /// Record a device/user installation row for the entitlement estimate.
    fn mark_install(&mut self, sku: u32, d: u32, kind_usage: bool, age: i64) {
        let lookback = if kind_usage { 90 * DAY } else { 30 * DAY };
        if age < lookback {
            match self.skus[sku as usize].model {
                Model::Device => self.mark(sku, d),
                _ => {
                    let u = self.primary_user(d);
                    self.mark(sku, u)
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// CSV rows

/// One canonical signal row under construction.
struct Row {
    line: String,
    fields: u32,
}

impl Row {
    fn new() -> Self {
        Row { line: String::with_capacity(256), fields: 0 }
    }
    fn start(&mut self) {
        self.line.clear();
        self.fields = 0;
    }
    fn sep(&mut self) {
        if self.fields > 0 {
            self.line.push(',');
        }
        self.fields += 1;
    }
    fn s(&mut self, v: &str) {
        debug_assert!(!v.contains([',', '"', '\n']), "{v}");
        self.sep();
        self.line.push_str(v);
    }
    fn empty(&mut self) {
        self.sep();
    }
    fn t(&mut self, t: i64, ms: u32, off: i32) {
        self.sep();
        push_instant(&mut self.line, t, ms, off);
    }
    fn with(&mut self, f: impl FnOnce(&mut String)) {
        self.sep();
        f(&mut self.line);
    }
    fn end(&mut self, w: &mut dyn Write) -> io::Result<()> {
        debug_assert_eq!(self.fields, 16);
        self.line.push('\n');
        w.write_all(self.line.as_bytes())
    }
}

/// `sku` and `product` columns for SKU `k` as reported by a source.
fn sku_cols(row: &mut Row, w: &World, k: u32, suffix: &str, by_code: bool) {
    let sku = &w.skus[k as usize];
    if sku.mapped {
        row.empty();
        if by_code {
            row.s(&sku.code);
        } else {
            row.with(|l| {
                l.push_str(&sku.name);
                l.push_str(suffix);
            });
        }
    } else {
        row.s(&sku.id);
        row.empty();
    }
}

fn confidence(r: &mut Rng) -> &'static str {
    match r.below(1000) {
        0..=929 => "",
        930..=979 => "0.9",
        980..=994 => "0.75",
        _ => "0.4",
    }
}

fn write_intune(w: &mut World, n: u64, out: &mut dyn Write) -> io::Result<()> {
    let mut rng = Rng::new(w.cfg.seed ^ 0x1_0000);
    let mut row = Row::new();
    out.write_all(HEADER.as_bytes())?;
    let len = w.intune.len().max(1) as u64;
    let as_of = w.as_of;
    for i in 0..n {
        let d = if w.intune.is_empty() { w.windows[(i % w.windows.len() as u64) as usize] } else { w.intune[(i % len) as usize] };
        let slot = i / len;
        let k = w.app(d, slot);
        let usage = rng.chance(250);
        let age = w.pair_age(d, slot) + rng.below(4 * HOUR as u64) as i64;
        row.start();
        row.s("intune");
        row.with(|l| {
            let _ = write!(l, "app-{d:07}-{slot:03}");
        });
        let ms = if rng.chance(500) { 1 + rng.below(999) as u32 } else { 0 };
        row.t(as_of - age, ms, 0);
        if rng.chance(3) {
            row.empty();
            let _ = write!(row.line, ",Contoso Widget Pro {}", rng.below(40));
            row.fields += 1;
        } else {
            sku_cols(&mut row, w, k, " (64-bit)", false);
            w.mark_install(k, d, usage, age);
        }
        row.s(if usage { "usage" } else { "installation" });
        row.empty();
        let u = w.primary_user(d);
        if w.user_aliased(u) {
            row.with(|l| w.email(u, l));
        } else {
            row.with(|l| w.upn(u, l));
        }
        match w.placeholder(d) {
            Some(p) => row.s(p),
            None => row.with(|l| w.serial(d, l)),
        }
        let upper = rng.chance(100);
        row.with(|l| {
            let at = l.len();
            w.device_id(d, l);
            if upper {
                let up = l[at..].to_uppercase();
                l.truncate(at);
                l.push_str(&up);
            }
        });
        row.with(|l| w.hostname(d, l));
        if usage {
            row.t(as_of - age - rng.below(2 * DAY as u64) as i64, 0, 0);
        } else {
            row.empty();
        }
        row.empty();
        row.empty();
        row.empty();
        row.s(confidence(&mut rng));
        row.end(out)?;
    }
    Ok(())
}

fn write_sccm(w: &mut World, n: u64, out: &mut dyn Write) -> io::Result<()> {
    let mut rng = Rng::new(w.cfg.seed ^ 0x2_0000);
    let mut row = Row::new();
    out.write_all(HEADER.as_bytes())?;
    let len = w.windows.len() as u64;
    let as_of = w.as_of;
    for i in 0..n {
        let d = w.windows[(i % len) as usize];
        let slot = i / len;
        let k = w.app(d, slot);
        let usage = rng.chance(200);
        let age = w.pair_age(d, slot) + rng.below(6 * HOUR as u64) as i64;
        row.start();
        row.s("sccm");
        row.with(|l| {
            let _ = write!(l, "inv-{}-{slot:03}", 16_777_216u64 + d as u64);
        });
        row.t(as_of - age, 0, 0);
        sku_cols(&mut row, w, k, " DC (x64)", false);
        w.mark_install(k, d, usage, age);
        row.s(if usage { "usage" } else { "installation" });
        row.empty();
        let u = w.primary_user(d);
        if w.user_aliased(u) {
            row.with(|l| {
                l.push_str("ACME\\");
                w.sam(u, l);
            });
        } else {
            row.empty();
        }
        match w.placeholder(d) {
            Some(p) => {
                // No strong hint: joined to the Intune device by hostname fallback.
                row.s(p);
                row.empty();
                row.with(|l| w.hostname(d, l));
            }
            None => {
                let messy = rng.chance(100);
                row.with(|l| {
                    let at = l.len();
                    w.serial(d, l);
                    if messy {
                        // Lower-case with an inner space: normalisation must undo it.
                        let m = l[at..].to_lowercase();
                        l.truncate(at);
                        l.push_str(&m[..3]);
                        l.push(' ');
                        l.push_str(&m[3..]);
                    }
                });
                row.with(|l| w.device_id(d, l));
                row.empty();
            }
        }
        if usage {
            row.t(as_of - age - rng.below(3 * DAY as u64) as i64, 0, 0);
        } else {
            row.empty();
        }
        row.empty();
        row.empty();
        row.empty();
        row.s(confidence(&mut rng));
        row.end(out)?;
    }
    Ok(())
}

fn write_jamf(w: &mut World, n: u64, out: &mut dyn Write) -> io::Result<()> {
    let mut rng = Rng::new(w.cfg.seed ^ 0x3_0000);
    let mut row = Row::new();
    out.write_all(HEADER.as_bytes())?;
    let len = w.macs.len() as u64;
    let as_of = w.as_of;
    for i in 0..n {
        let d = w.macs[(i % len) as usize];
        let slot = i / len;
        let k = w.app(d, slot);
        let usage = rng.chance(100);
        let age = w.pair_age(d, slot) + rng.below(3 * HOUR as u64) as i64;
        row.start();
        row.s("jamf");
        row.with(|l| {
            let _ = write!(l, "comp-{d}-app-{slot}");
        });
        let off = if rng.chance(300) { 60 } else { 0 };
        row.t(as_of - age, 0, off);
        sku_cols(&mut row, w, k, ".app", false);
        w.mark_install(k, d, usage, age);
        row.s(if usage { "usage" } else { "installation" });
        row.empty();
        if rng.chance(800) {
            let u = w.primary_user(d);
            row.with(|l| w.upn(u, l));
        } else {
            row.empty();
        }
        row.with(|l| w.serial(d, l));
        row.empty();
        row.with(|l| w.hostname(d, l));
        if usage {
            row.t(as_of - age - rng.below(DAY as u64) as i64, 0, off);
        } else {
            row.empty();
        }
        row.empty();
        row.empty();
        row.empty();
        row.s(confidence(&mut rng));
        row.end(out)?;
    }
    Ok(())
}

fn write_entra(w: &mut World, n: u64, out: &mut dyn Write) -> io::Result<()> {
    let mut rng = Rng::new(w.cfg.seed ^ 0x4_0000);
    let mut row = Row::new();
    out.write_all(HEADER.as_bytes())?;
    let users = w.cfg.users as u64;
    let as_of = w.as_of;
    for i in 0..n {
        let u = (i % users) as u32;
        let slot = i / users;
        let k = if slot == 0 {
            if rng.chance(950) {
                w.core
            } else {
                w.subscriptions[rng.below(w.subscriptions.len() as u64) as usize]
            }
        } else {
            w.assignable[rng.skewed(w.assignable.len() as u64) as usize]
        };
        let x = rng.next_u64() as i64 & i64::MAX;
        let age = if rng.chance(920) { 60 + x % (3 * DAY) } else { 31 * DAY + x % (89 * DAY) };
        let status = match rng.below(1000) {
            0..=959 => "active",
            960..=989 => "revoked",
            _ => "suspended",
        };
        if status == "active" && age < 30 * DAY {
            w.mark(k, u);
        }
        row.start();
        row.s("entra");
        row.with(|l| {
            let _ = write!(l, "lic-{u:06}-{slot:02}");
        });
        row.t(as_of - age, 0, 0);
        sku_cols(&mut row, w, k, "", true);
        row.s("assignment");
        row.s(status);
        let upper = rng.chance(50);
        row.with(|l| {
            let at = l.len();
            w.upn(u, l);
            if upper {
                let up = l[at..].to_uppercase();
                l.truncate(at);
                l.push_str(&up);
            }
        });
        for _ in 0..7 {
            row.empty();
        }
        row.s(if rng.chance(990) { "" } else { "0.9" });
        row.end(out)?;
    }
    Ok(())
}

fn write_flexlm(w: &mut World, n: u64, out: &mut dyn Write) -> io::Result<()> {
    let mut rng = Rng::new(w.cfg.seed ^ 0x5_0000);
    let mut row = Row::new();
    out.write_all(HEADER.as_bytes())?;
    let as_of = w.as_of;
    let window_start = as_of - 30 * DAY;
    let engineers = (w.cfg.users as u64 / 4).max(1);
    let mut prev: Option<(u64, String)> = None; // (session index, the row after raw_id)
    let mut i = 0u64;
    while i < n {
        // ~3 % of sessions are logged by both license servers (lmgrd1 and lmgrd2).
        if let Some((sid, rest)) = prev.take() {
            if rng.chance(30) {
                let line = format!("flexlm,lmgrd2-{sid:08},{rest}");
                out.write_all(line.as_bytes())?;
                i += 1;
                continue;
            }
        }
        let u = rng.skewed(engineers) as u32;
        let k = w.concurrent[rng.skewed(w.concurrent.len() as u64) as usize];
        let start = as_of - (60 + rng.below(40 * DAY as u64) as i64);
        let dur = 300 + rng.below(9 * HOUR as u64) as i64;
        let mut end = Some(start + dur);
        if start + dur >= as_of || (as_of - start < 12 * HOUR && rng.chance(200)) {
            end = None;
        }
        let observed = match end {
            Some(e) => e,
            None => (as_of - rng.below(600) as i64).max(start),
        };
        let q = if rng.chance(850) { 0 } else { 1 + rng.below(4) };
        let e_eff = end.unwrap_or(as_of);
        if e_eff > window_start {
            let qq = q.max(1) as i64;
            let ev = &mut w.sessions[k as usize];
            ev.push((start.max(window_start), qq));
            ev.push((e_eff, -qq));
        }
        row.start();
        row.t(observed, 0, 0);
        sku_cols(&mut row, w, k, "", true);
        row.s("session");
        row.empty();
        row.with(|l| w.sam(u, l));
        row.empty();
        row.empty();
        // The user's laptop (a lab host when the user has no device), as an FQDN.
        let devs = w.cfg.devices as u64;
        if (u as u64) < devs {
            let copies = (devs - u as u64).div_ceil(w.cfg.users as u64);
            let d = u as u64 + w.cfg.users as u64 * rng.below(copies.min(3));
            row.with(|l| {
                let at = l.len();
                w.hostname(d as u32, l);
                let lower = l[at..].to_lowercase();
                l.truncate(at);
                l.push_str(&lower);
                l.push_str(".corp.acme.com");
            });
        } else {
            row.with(|l| {
                let _ = write!(l, "lab-{u:06}.corp.acme.com");
            });
        }
        row.empty();
        row.t(start, 0, 0);
        match end {
            Some(e) => row.t(e, 0, 0),
            None => row.empty(),
        }
        if q == 0 {
            row.empty();
        } else {
            row.with(|l| {
                let _ = write!(l, "{q}");
            });
        }
        row.empty();
        // The row without `source,raw_id,` (the duplicate reuses it).
        let rest = row.line.clone();
        let line = format!("flexlm,lmgrd1-{i:08},{rest}\n");
        out.write_all(line.as_bytes())?;
        prev = Some((i, format!("{rest}\n")));
        i += 1;
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Master data

fn cents(c: u64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

fn catalog_json(w: &World) -> Value {
    let vendors: Vec<Value> = VENDORS.iter().map(|v| json!({"id": v.id, "name": v.name, "contacts": []})).collect();
    let skus: Vec<Value> = w
        .skus
        .iter()
        .map(|k| {
            let monthly = matches!(k.model, Model::Subscription | Model::Feature | Model::User);
            json!({
                "id": k.id,
                "vendor": VENDORS[k.vendor].id,
                "sku_code": k.code,
                "name": k.name,
                "model": k.model.name(),
                "unit_cost": cents(k.cost_cents),
                "cost_period": if monthly { "month" } else { "year" },
                "currency": "USD",
                "base_sku": k.base.map(|b| w.skus[b as usize].id.clone()),
            })
        })
        .collect();
    json!({"vendors": vendors, "skus": skus})
}

/// The default ruleset, re-identified as `bench`, with the mappings the generator uses.
pub fn ruleset_json_for(mappings: Vec<Value>) -> Value {
    let mut rs: Value = serde_json::from_str(include_str!("../../rulesets/default/v1.json")).expect("default ruleset is JSON");
    let obj = rs.as_object_mut().expect("default ruleset is an object");
    obj.remove("$schema");
    obj.insert("id".into(), json!("bench"));
    obj.insert("description".into(), json!("EUCORA benchmark ruleset: the default rules plus the generated product mappings"));
    obj.insert("sku_mappings".into(), Value::Array(mappings));
    rs
}

fn ruleset_json(w: &World) -> Value {
    let mut mappings = Vec::new();
    for k in w.skus.iter().filter(|k| k.mapped) {
        mappings.push(json!({"match": "exact", "field": "product", "value": k.code, "sku": k.id}));
        mappings.push(json!({"match": "prefix", "field": "product", "value": k.name, "sku": k.id}));
    }
    ruleset_json_for(mappings)
}

/// Estimated consumption per SKU (distinct principals or session peak).
fn estimates(w: &mut World) -> Vec<u64> {
    let mut est = vec![0u64; w.skus.len()];
    w.marks.sort_unstable();
    w.marks.dedup();
    for m in &w.marks {
        est[(m >> 32) as usize] += 1;
    }
    for (k, ev) in w.sessions.iter_mut().enumerate() {
        ev.sort_unstable();
        let (mut cur, mut peak) = (0i64, 0i64);
        for &(_, q) in ev.iter() {
            cur += q;
            peak = peak.max(cur);
        }
        if w.skus[k].model == Model::Concurrent {
            est[k] = peak as u64;
        }
    }
    est
}

fn write_entitlements(w: &World, est: &[u64], out: &mut impl Write) -> io::Result<Vec<u64>> {
    let mut rng = Rng::new(w.cfg.seed ^ T_ENT);
    writeln!(out, "entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency")?;
    let mut n = 0u32;
    let mut entitled = vec![0u64; w.skus.len()];
    let day0 = w.as_of.div_euclid(DAY) * DAY;
    for (k, sku) in w.skus.iter().enumerate() {
        let v = &VENDORS[sku.vendor];
        let e = est[k];
        // 3 % of SKUs have no entitlement at all; the rest: over-deployed,
        // under-utilised or compliant.
        let profile = rng.below(100);
        let qty = match profile {
            0..=2 => 0,
            3..=22 => e * 85 / 100,
            23..=42 => e * 170 / 100 + 5,
            _ => e * 110 / 100 + 1,
        };
        let contract = |n: u32, year: i64| format!("{}-EA-{year}-{:04}", v.code, n % 10_000);
        let perpetual = sku.model == Model::Device && rng.chance(400);
        let cost = cents(sku.cost_cents);
        let emit = |out: &mut dyn Write, q: u64, start: i64, end: Option<i64>, year: i64, n: &mut u32| -> io::Result<()> {
            *n += 1;
            let ends = end.map(date).unwrap_or_default();
            writeln!(out, "ENT-{:06},{},{},{q},{},{ends},{cost},USD", *n, sku.id, contract(*n, year), date(start))
        };
        if qty > 0 {
            let start = day0 - (30 + rng.below(700) as i64) * DAY;
            let end = (!perpetual).then(|| day0 + (20 + rng.below(700) as i64) * DAY);
            if qty >= 10 && rng.chance(300) {
                // Two contracts for the same SKU.
                let a = qty * (30 + rng.below(40)) / 100;
                emit(out, a, start, end, 2024, &mut n)?;
                let start2 = day0 - (1 + rng.below(200) as i64) * DAY;
                emit(out, qty - a, start2, end.map(|e| e + 365 * DAY), 2025, &mut n)?;
            } else {
                emit(out, qty, start, end, 2025, &mut n)?;
            }
            entitled[k] = qty;
        }
        if rng.chance(100) {
            // An expired contract: not active at as_of.
            let end = day0 - (1 + rng.below(300) as i64) * DAY;
            emit(out, 1 + e / 4, end - 365 * DAY, Some(end), 2023, &mut n)?;
        }
        if rng.chance(50) {
            // A renewal that starts after as_of.
            let start = day0 + (1 + rng.below(120) as i64) * DAY;
            emit(out, 1 + e / 2, start, Some(start + 365 * DAY), 2026, &mut n)?;
        }
    }
    Ok(entitled)
}

fn write_pools(w: &World, est: &[u64], entitled: &[u64], out: &mut impl Write) -> io::Result<()> {
    let mut rng = Rng::new(w.cfg.seed ^ 0x7_0000);
    writeln!(out, "pool_id,sku,scope,quantity,reserved")?;
    // Region pools for the most popular device and user SKUs (pools never
    // split concurrent SKUs).
    let mut top: Vec<u32> = w.installable.iter().copied().filter(|&k| est[k as usize] > 0 && entitled[k as usize] > 0).collect();
    top.sort_by_key(|&k| (std::cmp::Reverse(est[k as usize]), k));
    top.truncate(12);
    top.sort_unstable();
    for k in top {
        let id = &w.skus[k as usize].id;
        let e = entitled[k as usize];
        writeln!(out, "{id}-emea,{id},region:emea,{},{}", e * 15 / 100, rng.below(4))?;
        writeln!(out, "{id}-na,{id},region:na,{},{}", e * 20 / 100, rng.below(4))?;
        if rng.chance(500) {
            writeln!(out, "{id}-apac,{id},region:apac,,0")?;
        }
        writeln!(out, "{id}-global,{id},global,{},{}", e * 40 / 100, rng.below(6))?;
    }
    Ok(())
}

fn write_directory(w: &World, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "principal_type,canonical_id,alias,status,region,bu,last_active_at")?;
    let mut line = String::with_capacity(256);
    let attrs = |tag: u64, x: u32, line: &mut String| {
        let h = w.h(T_ATTR, tag, x as u64);
        let status = if h % 100 < 97 { "active" } else { "disabled" };
        let _ = write!(line, ",{status},{},{},", REGIONS[((h >> 8) % 3) as usize], BUS[((h >> 16) % 5) as usize]);
        let age = ((h >> 24) % (40 * DAY as u64)) as i64;
        push_instant(line, w.as_of - age - 60, 0, 0);
        line.push('\n');
    };
    for u in 0..w.cfg.users {
        if !w.user_aliased(u) {
            continue;
        }
        for form in 0..2 {
            line.clear();
            line.push_str("user,");
            w.upn(u, &mut line);
            line.push(',');
            if form == 0 {
                w.email(u, &mut line);
            } else {
                w.sam(u, &mut line);
            }
            attrs(1, u, &mut line);
            out.write_all(line.as_bytes())?;
        }
    }
    for d in 0..w.cfg.devices {
        if w.h(T_DALIAS, d as u64, 0) % 40 != 0 {
            continue;
        }
        let mut pair = |a: &dyn Fn(&mut String), b: &dyn Fn(&mut String)| -> io::Result<()> {
            line.clear();
            line.push_str("device,");
            a(&mut line);
            line.push(',');
            b(&mut line);
            attrs(2, d, &mut line);
            out.write_all(line.as_bytes())
        };
        let serial = |l: &mut String| {
            l.push_str("serial:");
            w.serial(d, l)
        };
        let id = |l: &mut String| {
            l.push_str("id:");
            w.device_id(d, l)
        };
        let name = |l: &mut String| {
            l.push_str("name:");
            w.hostname(d, l)
        };
        if w.placeholder(d).is_some() {
            pair(&id, &name)?;
        } else if w.is_mac(d) {
            pair(&serial, &name)?;
            if w.h(T_FORM, d as u64, 0) % 2 == 0 {
                pair(&serial, &id)?;
            }
        } else {
            pair(&serial, &id)?;
        }
    }
    Ok(())
}

fn count_lines(bytes_written: &[u8]) -> u64 {
    bytes_written.iter().filter(|&&b| b == b'\n').count() as u64
}

/// A writer that counts newlines as they pass.
struct Counting<W: Write> {
    inner: W,
    lines: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.lines += count_lines(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

type Writer = fn(&mut World, u64, &mut dyn Write) -> io::Result<()>;

/// Generate the whole bundle into `sink`.
pub fn generate<S: Sink>(cfg: &Config, sink: &mut S) -> io::Result<Summary> {
    cfg.validate()?;
    let mut w = World::new(cfg);
    let mut summary = Summary::default();
    let n = cfg.signals;
    let n_intune = n * 35 / 100;
    let n_sccm = n * 25 / 100;
    let n_jamf = n * 12 / 100;
    let n_entra = n * 18 / 100;
    let n_flexlm = n - n_intune - n_sccm - n_jamf - n_entra;
    let plan: [(&str, u64, Writer); 5] = [
        ("intune", n_intune, |w, n, o| write_intune(w, n, o)),
        ("sccm", n_sccm, |w, n, o| write_sccm(w, n, o)),
        ("jamf", n_jamf, |w, n, o| write_jamf(w, n, o)),
        ("entra", n_entra, |w, n, o| write_entra(w, n, o)),
        ("flexlm", n_flexlm, |w, n, o| write_flexlm(w, n, o)),
    ];
    for (source, rows, f) in plan {
        let path = format!("signals/{source}.csv");
        let mut out = Counting { inner: sink.create(&path)?, lines: 0 };
        f(&mut w, rows, &mut out)?;
        debug_assert_eq!(out.lines, rows + 1);
        summary.files.push((path.clone(), out.lines - 1));
        sink.finish(&path, out.inner)?;
    }

    let est = estimates(&mut w);
    let put_json = |sink: &mut S, path: &str, v: &Value| -> io::Result<()> {
        let mut out = sink.create(path)?;
        serde_json::to_writer_pretty(&mut out, v).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
        sink.finish(path, out)
    };
    let bundle = json!({
        "organization_id": "org-bench",
        "as_of": AS_OF,
        "run_id": format!("bench-{}-{}", cfg.signals, cfg.seed),
        "ruleset": "ruleset.json",
        "expected_sources": ["intune", "jamf", "sccm", "entra", "flexlm"],
        "schedule_interval_hours": 24,
    });
    put_json(sink, "bundle.json", &bundle)?;
    put_json(sink, "ruleset.json", &ruleset_json(&w))?;
    put_json(sink, "catalog.json", &catalog_json(&w))?;
    summary.files.push(("catalog.json".into(), w.skus.len() as u64));

    let mut out = Counting { inner: sink.create("entitlements.csv")?, lines: 0 };
    let entitled = write_entitlements(&w, &est, &mut out)?;
    summary.files.push(("entitlements.csv".into(), out.lines - 1));
    sink.finish("entitlements.csv", out.inner)?;

    let mut out = Counting { inner: sink.create("pools.csv")?, lines: 0 };
    write_pools(&w, &est, &entitled, &mut out)?;
    summary.files.push(("pools.csv".into(), out.lines - 1));
    sink.finish("pools.csv", out.inner)?;

    let mut out = Counting { inner: sink.create("directory.csv")?, lines: 0 };
    write_directory(&w, &mut out)?;
    summary.files.push(("directory.csv".into(), out.lines - 1));
    sink.finish("directory.csv", out.inner)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_dates_are_rfc3339() {
        let mut s = String::new();
        push_instant(&mut s, as_of_secs(), 0, 0);
        assert_eq!(s, AS_OF);
        s.clear();
        push_instant(&mut s, as_of_secs(), 5, 60);
        assert_eq!(s, "2026-11-22T07:00:00.005+01:00");
    }

    #[test]
    fn deterministic_and_exact() {
        let cfg = Config { signals: 12_345, devices: 900, users: 300, skus: 40, seed: 7 };
        let a = generate_in_memory(&cfg).unwrap();
        let b = generate_in_memory(&cfg).unwrap();
        assert_eq!(a, b);
        let rows: u64 = a.iter().filter(|(p, _)| p.starts_with("signals/")).map(|(_, v)| count_lines(v) - 1).sum();
        assert_eq!(rows, 12_345);
        let c = generate_in_memory(&Config { seed: 8, ..cfg }).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn tiny_estates() {
        for cfg in [
            Config { signals: 0, devices: 1, users: 1, skus: 5, seed: 1 },
            Config { signals: 100, devices: 1, users: 1, skus: 5, seed: 1 },
            Config { signals: 1000, devices: 3, users: 50, skus: 7, seed: 2 },
        ] {
            let mut sink = MemorySink::default();
            let s = generate(&cfg, &mut sink).unwrap();
            assert_eq!(s.signals(), cfg.signals);
        }
    }
}
