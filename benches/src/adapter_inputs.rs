//! Large, deterministic raw exports for adapter throughput benchmarks.
//!
//! [`generate`] builds the input files one adapter reads from
//! `imports/<adapter>/`, in the documented shape of the vendor export (Graph
//! pages chained by `@odata.nextLink`, Jamf pages with `totalCount`, SCCM view
//! CSVs with one of them UTF-16 LE as SQL Server Management Studio writes it,
//! FlexLM text), sized by a number of devices or users. Every record is valid,
//! so a benchmark measures the parsing path that real exports take; the tests
//! below check that the adapters accept every generated record.
//!
//! Pure function of its arguments: a SplitMix64 stream, no clock.

use crate::Rng;
use eucora_license_core::internal::adapters::{InputFile, Options};
use serde_json::{json, Value};
use std::fmt::Write as _;

/// Adapter names [`generate`] knows, in registry order.
pub const ADAPTERS: &[&str] = &[
    "adobe-users",
    "entra-subscribed-skus",
    "entra-users",
    "flexlm-lmstat",
    "flexlm-log",
    "intune-apps",
    "intune-devices",
    "jamf-inventory",
    "sccm-installed",
    "sccm-metering",
];

/// Applications a generated device carries (names as inventories report them).
const APPS: &[&str] = &[
    "Adobe Acrobat (64-bit)",
    "Microsoft 365 Apps for enterprise - en-us",
    "Microsoft Visio - en-us",
    "Microsoft Project - en-us",
    "Autodesk AutoCAD 2026",
    "Google Chrome",
    "Mozilla Firefox (x64 en-US)",
    "7-Zip 24.08 (x64)",
    "Notepad++ (64-bit x64)",
    "Zoom Workplace (64-bit)",
    "IntelliJ IDEA Ultimate 2025.3",
    "MATLAB R2025b",
    "Tableau Desktop 2025.2",
    "Slack",
    "Microsoft Teams",
    "Cisco Secure Client",
];

/// Graph skuIds of the generated tenant with their part numbers.
const SKUS: &[(&str, &str)] = &[
    ("05e9a617-0261-4cee-bb44-138d3ef5d965", "SPE_E3"),
    ("06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5"),
    ("c5928f49-12ba-48f7-ada3-0d743a3601d5", "VISIOCLIENT"),
    ("f8a1db68-be16-40ed-86d5-cb42ce701560", "POWER_BI_PRO"),
    ("53818b1b-4a27-454b-8896-0dba576410e6", "PROJECTPROFESSIONAL"),
];

/// FlexLM features of the generated license server.
const FEATURES: &[&str] = &["MATLAB", "SIMULINK", "Optimization_Toolbox", "Signal_Toolbox", "CATIA_MD2", "CATIA_KIN"];

/// One adapter's generated input: its files and the options a bundle would set.
pub struct AdapterInput {
    /// Files, sorted by path as the bundle reader gives them.
    pub files: Vec<InputFile>,
    /// Options (`bundle.json` `adapter_options`).
    pub options: Options,
    /// Records the files hold (users, devices, rows, log lines with an event).
    pub records: u64,
}

impl AdapterInput {
    /// Total input size in bytes.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes.len() as u64).sum()
    }
}

/// A stable GUID-shaped id from a counter and a salt.
fn guid(salt: u64, n: u64) -> String {
    let mut out = String::with_capacity(36);
    crate::write_uuid(&mut out, crate::mix64(salt ^ n.wrapping_mul(0x9E37_79B9)));
    out
}

fn options(pairs: &[(&str, &str)]) -> Options {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn file(adapter: &str, name: &str, bytes: Vec<u8>) -> InputFile {
    InputFile { path: format!("imports/{adapter}/{name}"), bytes }
}

/// A Graph collection split into pages of `page_size`, chained by `@odata.nextLink`.
fn graph_pages(adapter: &str, context: &str, records: Vec<Value>, page_size: usize) -> Vec<InputFile> {
    let pages: Vec<&[Value]> = records.chunks(page_size.max(1)).collect();
    let last = pages.len().saturating_sub(1);
    pages
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut page = json!({ "@odata.context": context, "value": chunk });
            if i < last {
                page["@odata.nextLink"] =
                    json!(format!("https://graph.microsoft.com/v1.0/{adapter}?$top={page_size}&$skiptoken=page{}", i + 1));
            }
            file(adapter, &format!("page-{i:05}.json"), serde_json::to_vec_pretty(&page).expect("serialise page"))
        })
        .collect()
}

/// Generate the raw export of `adapter` with about `scale` devices or users.
/// `None` for an adapter name this generator does not know.
pub fn generate(adapter: &str, scale: u64) -> Option<AdapterInput> {
    let mut rng = Rng::new(0xADA9_7E00 ^ scale);
    Some(match adapter {
        "entra-users" => entra_users(&mut rng, scale),
        "entra-subscribed-skus" => entra_subscribed_skus(scale),
        "intune-devices" => intune(&mut rng, scale, false),
        "intune-apps" => intune(&mut rng, scale, true),
        "jamf-inventory" => jamf(&mut rng, scale),
        "sccm-installed" => sccm_installed(&mut rng, scale),
        "sccm-metering" => sccm_metering(&mut rng, scale),
        "flexlm-lmstat" => lmstat(&mut rng, scale),
        "flexlm-log" => flexlm_log(&mut rng, scale),
        "adobe-users" => adobe(&mut rng, scale),
        _ => return None,
    })
}

fn entra_users(rng: &mut Rng, users: u64) -> AdapterInput {
    let records: Vec<Value> = (0..users)
        .map(|u| {
            let held: Vec<&(&str, &str)> = SKUS.iter().filter(|_| rng.chance(350)).collect();
            let states: Vec<Value> = held
                .iter()
                .map(|(id, _)| {
                    json!({"skuId": id, "disabledPlans": [], "assignedByGroup": null, "state": "Active", "error": "None",
                           "lastUpdatedDateTime": format!("2026-{:02}-{:02}T{:02}:{:02}:00Z", 1 + rng.below(10), 1 + rng.below(28), rng.below(24), rng.below(60))})
                })
                .collect();
            json!({
                "id": guid(1, u),
                "userPrincipalName": format!("user{u}@contoso.com"),
                "mail": format!("user{u}@contoso.com"),
                "accountEnabled": !rng.chance(30),
                "assignedLicenses": held.iter().map(|(id, _)| json!({"disabledPlans": [], "skuId": id})).collect::<Vec<_>>(),
                "licenseAssignmentStates": states,
                "signInActivity": if rng.chance(100) { Value::Null } else {
                    json!({"lastSignInDateTime": "2026-11-19T17:40:03Z",
                           "lastSuccessfulSignInDateTime": format!("2026-11-{:02}T{:02}:{:02}:{:02}.{:07}Z", 1 + rng.below(21), rng.below(24), rng.below(60), rng.below(60), rng.below(10_000_000))})
                },
            })
        })
        .collect();
    let sku_names: Vec<String> = SKUS.iter().map(|(id, name)| format!("{id}={name}")).collect();
    AdapterInput {
        files: graph_pages("entra-users", "https://graph.microsoft.com/v1.0/$metadata#users", records, 999),
        options: options(&[("observed_at", "2026-11-22T05:00:00Z"), ("sku_names", &sku_names.join(","))]),
        records: users,
    }
}

fn entra_subscribed_skus(skus: u64) -> AdapterInput {
    let records: Vec<Value> = (0..skus)
        .map(|n| {
            json!({"accountName": "Contoso Ltd", "appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": n % 500,
                   "id": format!("tenant_{}", guid(2, n)), "prepaidUnits": {"enabled": 500, "lockedOut": 0, "suspended": 0, "warning": 0},
                   "servicePlans": [], "skuId": guid(2, n), "skuPartNumber": format!("SKU_{n}")})
        })
        .collect();
    AdapterInput {
        files: graph_pages("entra-subscribed-skus", "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus", records, usize::MAX),
        options: options(&[]),
        records: skus,
    }
}

/// Intune `managedDevices` pages, with `detectedApps` expanded when `apps`.
fn intune(rng: &mut Rng, devices: u64, apps: bool) -> AdapterInput {
    let records: Vec<Value> = (0..devices)
        .map(|d| {
            let mut device = json!({
                "id": guid(3, d), "userId": guid(1, d % 50_000), "deviceName": format!("LT-{d:06}"),
                "managedDeviceOwnerType": "company", "lastSyncDateTime": format!("2026-11-{:02}T{:02}:15:42Z", 1 + rng.below(21), rng.below(24)),
                "operatingSystem": "Windows", "complianceState": "compliant", "azureADDeviceId": guid(4, d),
                "userPrincipalName": format!("user{}@contoso.com", d % 50_000), "model": "HP EliteBook 840 G9",
                "manufacturer": "HP", "serialNumber": format!("5CG{:07}", d),
            });
            if apps {
                let detected: Vec<Value> = APPS
                    .iter()
                    .enumerate()
                    .filter(|_| rng.chance(600))
                    .map(|(i, name)| json!({"id": guid(5, i as u64), "displayName": name, "version": "16.0.17928.20156",
                                            "sizeInByte": 0, "deviceCount": 0, "publisher": "Vendor", "platform": "windows"}))
                    .collect();
                device["detectedApps"] = json!(detected);
            }
            device
        })
        .collect();
    let (adapter, context, page, opts) = if apps {
        (
            "intune-apps",
            "https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices(detectedApps())",
            100,
            options(&[("observed_at", "2026-11-22T05:00:00Z")]),
        )
    } else {
        ("intune-devices", "https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices", 1000, options(&[]))
    };
    AdapterInput { files: graph_pages(adapter, context, records, page), options: opts, records: devices }
}

fn jamf(rng: &mut Rng, computers: u64) -> AdapterInput {
    let records: Vec<Value> = (0..computers)
        .map(|c| {
            let apps: Vec<Value> = APPS
                .iter()
                .filter(|_| rng.chance(500))
                .map(|name| json!({"name": format!("{name}.app"), "path": format!("/Applications/{name}.app"), "version": "6.2.5",
                                   "macAppStore": false, "sizeMegabytes": 310, "bundleId": "com.vendor.app", "updateAvailable": false}))
                .collect();
            json!({"id": c.to_string(), "udid": guid(6, c).to_uppercase(),
                   "general": {"name": format!("MBP-{c:06}"), "lastContactTime": format!("2026-11-{:02}T{:02}:10:00.123Z", 1 + rng.below(21), rng.below(24))},
                   "hardware": {"model": "MacBook Pro (14-inch, 2023)", "serialNumber": format!("C02{c:07}JG5H")},
                   "applications": apps,
                   "userAndLocation": {"username": format!("user{}", c % 50_000), "realname": "A User", "email": format!("user{}@contoso.com", c % 50_000)}})
        })
        .collect();
    let files = records
        .chunks(100)
        .enumerate()
        .map(|(i, chunk)| {
            let page = json!({"totalCount": computers, "results": chunk});
            file("jamf-inventory", &format!("page-{i:05}.json"), serde_json::to_vec_pretty(&page).expect("serialise page"))
        })
        .collect();
    AdapterInput { files, options: options(&[("observed_at", "2026-11-22T05:00:00Z")]), records: computers }
}

/// UTF-16 LE with BOM, as SQL Server Management Studio saves "Unicode" results.
fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xfe];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

fn sccm_installed(rng: &mut Rng, systems: u64) -> AdapterInput {
    let mut sys = String::from("ResourceID,Name0,Netbios_Name0,Resource_Domain_OR_Workgr0,User_Name0,User_Domain0,Obsolete0,Active0,Client0,AADDeviceID,SerialNumber0\r\n");
    let mut inst = String::from(
        "ResourceID,GroupID,RevisionID,AgentID,TimeStamp,ARPDisplayName0,InstallDate0,ProductName0,ProductVersion0,Publisher0\r\n",
    );
    for s in 0..systems {
        let id = 16_777_216 + s;
        let _ = write!(sys, "{id},WS-{s:06},WS-{s:06},CONTOSO,user{},CONTOSO,0,1,1,{},5CG{s:07}\r\n", s % 50_000, guid(4, s));
        for (i, app) in APPS.iter().enumerate() {
            if rng.chance(600) {
                let _ = write!(
                    inst,
                    "{id},{},5,1,2026-11-{:02} {:02}:15:00.000,\"{app}\",2025-06-01 00:00:00.000,\"{app}\",16.0.17029.20108,Vendor Corporation\r\n",
                    100 + i,
                    1 + rng.below(21),
                    rng.below(24)
                );
            }
        }
    }
    AdapterInput {
        files: vec![
            file("sccm-installed", "v_GS_INSTALLED_SOFTWARE.csv", inst.into_bytes()),
            file("sccm-installed", "v_R_System.csv", utf16le(&sys)),
        ],
        options: options(&[("observed_at", "2026-11-21T06:00:00Z")]),
        records: systems,
    }
}

fn sccm_metering(rng: &mut Rng, rows: u64) -> AdapterInput {
    let mut text = String::from("ResourceID,Name0,FileID,ProductName,FullName,UsageCount,TSUsageCount,UsageTime,LastUsage,TimeKey\r\n");
    for r in 0..rows {
        let _ = write!(
            text,
            "{},WS-{:06},{},{},CONTOSO\\user{},{},0,{},2026-11-{:02} {:02}:{:02}:00.000,202611\r\n",
            16_777_216 + r / 3,
            r / 3,
            1000 + r % 7,
            ["Adobe Acrobat", "Microsoft Visio", "Autodesk AutoCAD", "MATLAB", "Tableau Desktop", "Microsoft Project", "Zoom"]
                [(r % 7) as usize],
            (r / 3) % 50_000,
            1 + rng.below(40),
            rng.below(600),
            1 + rng.below(21),
            rng.below(24),
            rng.below(60)
        );
    }
    AdapterInput {
        files: vec![file("sccm-metering", "v_MonthlyUsageSummary.csv", text.into_bytes())],
        options: options(&[]),
        records: rows,
    }
}

fn lmstat(rng: &mut Rng, sessions: u64) -> AdapterInput {
    let per_feature = sessions.div_ceil(FEATURES.len() as u64);
    let mut text = String::from(
        "lmutil - Copyright (c) 1989-2023 Flexera. All Rights Reserved.\nFlexible License Manager status on Fri 11/20/2026 10:05\n\n\
         [Detecting lmgrd processes...]\nLicense server status: 27000@lmhost\n    License file(s) on lmhost: /opt/flexlm/licenses/mlm.lic:\n\n\
         \x20   lmhost: license server UP (MASTER) v11.19.6\n\nVendor daemon status (on lmhost):\n\n     MLM: UP v11.19.6\nFeature usage info:\n\n",
    );
    for feature in FEATURES {
        let _ = write!(
            text,
            "Users of {feature}:  (Total of {n} licenses issued;  Total of {n} licenses in use)\n\n  \"{feature}\" v45, vendor: MLM, expiry: 31-dec-2026\n  floating license\n\n",
            n = per_feature
        );
        for s in 0..per_feature {
            let _ = writeln!(
                text,
                "    user{} ws-{s:06} ws-{s:06} (v45) (lmhost/27000 {}), start Fri 11/20 {}:{:02}",
                s % 50_000,
                1000 + s,
                rng.below(10),
                rng.below(60)
            );
        }
        text.push('\n');
    }
    AdapterInput {
        files: vec![file("flexlm-lmstat", "lmstat-2026-11-20-1005.txt", text.into_bytes())],
        options: options(&[("utc_offset", "+01:00")]),
        records: per_feature * FEATURES.len() as u64,
    }
}

/// A debug log over several days: checkouts and checkins in time order,
/// a `TIMESTAMP` line every few hours (the date rolls over at midnight).
fn flexlm_log(rng: &mut Rng, checkouts: u64) -> AdapterInput {
    let mut text = String::from(" 0:00:00 (lmgrd) TIMESTAMP 11/01/2026\n");
    let per_day = 20_000u64;
    let mut open: Vec<(u64, &str)> = Vec::new();
    let mut events = 0;
    for n in 0..checkouts {
        let day = n / per_day;
        let second = (n % per_day) * 86_399 / per_day;
        if n % per_day == 0 && day > 0 {
            // Date is days since 1970-01-01; its Display is YYYY-MM-DD.
            let date = eucora_license_core::internal::time::Date(
                eucora_license_core::internal::time::Date::parse("2026-11-01").expect("date").0 + day as i64,
            )
            .to_string();
            let _ = writeln!(text, " 0:00:00 (lmgrd) TIMESTAMP {}/{}/{}", &date[5..7], &date[8..10], &date[0..4]);
        }
        let clock = format!("{}:{:02}:{:02}", second / 3600, second / 60 % 60, second % 60);
        let feature = FEATURES[rng.below(FEATURES.len() as u64) as usize];
        let _ = writeln!(text, "{clock:>8} (MLM) OUT: \"{feature}\" user{}@ws-{:06}", n % 50_000, n % 200_000);
        open.push((n, feature));
        events += 1;
        if open.len() > 50 {
            let (m, f) = open.remove(rng.below(open.len() as u64) as usize);
            let _ = writeln!(text, "{clock:>8} (MLM) IN: \"{f}\" user{}@ws-{:06}", m % 50_000, m % 200_000);
            events += 1;
        }
    }
    AdapterInput {
        files: vec![file("flexlm-log", "lmgrd.log", text.into_bytes())],
        options: options(&[("start_date", "2026-11-01"), ("utc_offset", "+01:00")]),
        records: events,
    }
}

fn adobe(rng: &mut Rng, users: u64) -> AdapterInput {
    let mut text = String::from("\u{feff}Identity Type,Username,Domain,Email,First Name,Last Name,Country Code,Product Configurations,Admin Roles,Product Configurations Administered,User Groups,User Groups Administered,Products Administered,Developer Access,Auto Assigned Products\n");
    let configs = [
        "Default All Apps plan - 100 GB configuration",
        "Default Adobe Acrobat Pro DC configuration",
        "Default Photoshop - 100 GB configuration",
    ];
    for u in 0..users {
        let held: Vec<&str> = configs.iter().copied().filter(|_| rng.chance(500)).collect();
        let _ = writeln!(
            text,
            "Federated ID,user{u}@contoso.com,contoso.com,user{u}@contoso.com,First,Last,SE,\"{}\",,,Design,,,,",
            held.join(",")
        );
    }
    AdapterInput {
        files: vec![file("adobe-users", "users.csv", text.into_bytes())],
        options: options(&[("observed_at", "2026-11-21T08:00:00Z")]),
        records: users,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eucora_license_core::internal::adapters::run;

    /// Every generated record is read, none is rejected, and the adapter
    /// yields output: the benchmark measures the path real exports take.
    #[test]
    fn every_adapter_accepts_every_generated_record() {
        for name in ADAPTERS {
            let input = generate(name, 300).expect("known adapter");
            let (_, out) = run(name, &input.files, &input.options).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(out.rejected.is_empty(), "{name}: {:?}", &out.rejected[..out.rejected.len().min(3)]);
            let produced = out.signals.len() + out.directory.len() + out.observations.len();
            assert!(produced > 0, "{name} produced nothing");
        }
    }

    #[test]
    fn generation_is_deterministic_and_sized_by_scale() {
        for name in ADAPTERS {
            let a = generate(name, 200).unwrap();
            let b = generate(name, 200).unwrap();
            assert_eq!(
                a.files.iter().map(|f| &f.bytes).collect::<Vec<_>>(),
                b.files.iter().map(|f| &f.bytes).collect::<Vec<_>>(),
                "{name}"
            );
            assert!(generate(name, 2000).unwrap().bytes() > a.bytes(), "{name}");
        }
        assert!(generate("no-such-adapter", 1).is_none());
    }
}
