//! Identity normalisation (DESIGN A3, A9, A10): the text rules that turn a
//! raw serial, device id, hostname or user name into the value identity
//! resolution compares. Resolution itself (union-find, hostname fallback,
//! canonical keys) is [`crate::engine::identity`]; normalisation lives in the
//! input layer because signals, adapters and the ruleset normalise as they
//! read.
//!
//! Sources name the same laptop by serial, by directory device id and by
//! hostname, and the same person by UPN, e-mail and `DOMAIN\name`. This
//! module turns those hints into one canonical key per device and per user,
//! so a device seen by Intune, SCCM and Jamf counts once.
//!
//! Devices: serials and device ids are *strong* hints; strong hints on one
//! signal, and directory aliases, are merged with a union-find. A hostname
//! never merges two strong devices; a signal known only by hostname joins the
//! one strong device that carries that hostname elsewhere (hostname
//! fallback), or stands alone. The canonical key of a device is the
//! byte-smallest of its strong hints (`id:V` before `serial:V`), or `name:V`.

use core::net::{Ipv4Addr, Ipv6Addr};

/// Append `s` lower-cased (Unicode default lower-casing) to `buf`; ASCII takes
/// a fast path that allocates nothing.
fn push_lower(buf: &mut String, s: &str) {
    if s.is_ascii() {
        let start = buf.len();
        buf.push_str(s);
        buf[start..].make_ascii_lowercase();
    } else {
        buf.push_str(&s.to_lowercase());
    }
}

/// [`normalize_user`] into a reused buffer; returns whether a value remains.
pub(crate) fn normalize_user_into(s: &str, strip_netbios: bool, buf: &mut String) -> bool {
    buf.clear();
    let t = s.trim();
    let t = if strip_netbios {
        match t.split_once('\\') {
            Some((_domain, name)) => name,
            None => t,
        }
    } else {
        t
    };
    push_lower(buf, t);
    !buf.is_empty()
}

/// [`normalize_device_id`] into a reused buffer; returns whether a value remains.
pub(crate) fn normalize_device_id_into(s: &str, buf: &mut String) -> bool {
    buf.clear();
    push_lower(buf, s.trim());
    !buf.is_empty()
}

/// [`normalize_serial`] into a reused buffer; returns whether a strong value remains.
pub(crate) fn normalize_serial_into(s: &str, placeholders: &[String], buf: &mut String) -> bool {
    buf.clear();
    let t = s.trim();
    if t.is_ascii() {
        buf.push_str(t);
        // Unicode White_Space in ASCII also includes U+000B (vertical tab).
        if buf.bytes().any(|b| (b as char).is_whitespace()) {
            buf.retain(|c| !c.is_whitespace());
        }
        buf.make_ascii_uppercase();
    } else {
        buf.extend(t.to_uppercase().chars().filter(|c| !c.is_whitespace()));
    }
    !buf.is_empty() && placeholders.binary_search_by(|p| p.as_str().cmp(buf.as_str())).is_err()
}

/// [`normalize_hostname`] into a reused buffer; returns whether a value remains.
pub(crate) fn normalize_hostname_into(s: &str, buf: &mut String) -> bool {
    buf.clear();
    let t = s.trim();
    if t.is_empty() || is_ip_address(t) {
        return false;
    }
    push_lower(buf, t);
    if let Some(dot) = buf.find('.') {
        buf.truncate(dot);
    }
    !buf.is_empty()
}

/// Serial text normalised but not yet checked against placeholders: trimmed,
/// upper-cased, inner white space removed.
///
/// ```
/// use eucora_license_core::internal::identity::normalize_serial_text;
/// assert_eq!(normalize_serial_text(" to be filled by o.e.m. "), "TOBEFILLEDBYO.E.M.");
/// ```
pub fn normalize_serial_text(s: &str) -> String {
    s.trim().to_uppercase().chars().filter(|c| !c.is_whitespace()).collect()
}

/// A serial as a strong hint, or `None` when empty or a placeholder.
/// `placeholders` must be normalised with [`normalize_serial_text`] and sorted.
///
/// ```
/// use eucora_license_core::internal::identity::{normalize_serial, normalize_serial_text};
/// let ph = vec![normalize_serial_text("To Be Filled By O.E.M.")];
/// assert_eq!(normalize_serial("to be filled by o.e.m.", &ph), None);
/// assert_eq!(normalize_serial(" c02 x1 ", &ph).as_deref(), Some("C02X1"));
/// ```
pub fn normalize_serial(s: &str, placeholders: &[String]) -> Option<String> {
    let n = normalize_serial_text(s);
    if n.is_empty() || placeholders.binary_search(&n).is_ok() {
        None
    } else {
        Some(n)
    }
}

/// A directory device id: trimmed and lower-cased.
pub(crate) fn normalize_device_id(s: &str) -> Option<String> {
    let n = s.trim().to_lowercase();
    (!n.is_empty()).then_some(n)
}

/// Whether a trimmed value is an IPv4 or IPv6 address (a zone id such as
/// `%eth0` still makes it an address). `010.1.2.3` is not an address.
pub(crate) fn is_ip_address(s: &str) -> bool {
    if s.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    let v6 = s.split_once('%').map_or(s, |(addr, _zone)| addr);
    v6.parse::<Ipv6Addr>().is_ok()
}

/// A hostname: trimmed, not an IP address, lower-cased, cut at the first `.`.
///
/// ```
/// use eucora_license_core::internal::identity::normalize_hostname;
/// assert_eq!(normalize_hostname(" LT-0042.corp.acme.com ").as_deref(), Some("lt-0042"));
/// assert_eq!(normalize_hostname("10.0.0.7"), None);
/// assert_eq!(normalize_hostname("fe80::1%eth0"), None);
/// assert_eq!(normalize_hostname("010.1.2.3").as_deref(), Some("010"));
/// ```
pub fn normalize_hostname(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() || is_ip_address(t) {
        return None;
    }
    let lower = t.to_lowercase();
    let cut = lower.split('.').next().unwrap_or("");
    (!cut.is_empty()).then(|| cut.to_string())
}

/// A user name: trimmed, lower-cased, and with `strip_netbios` `DOMAIN\name`
/// becomes `name` (split at the first backslash).
///
/// ```
/// use eucora_license_core::internal::identity::normalize_user;
/// assert_eq!(normalize_user(" ACME\\Bob ", true).as_deref(), Some("bob"));
/// assert_eq!(normalize_user("ACME\\Bob", false).as_deref(), Some("acme\\bob"));
/// assert_eq!(normalize_user("  ", true), None);
/// ```
pub fn normalize_user(s: &str, strip_netbios: bool) -> Option<String> {
    let lower = s.trim().to_lowercase();
    let n = if strip_netbios {
        match lower.split_once('\\') {
            Some((_domain, name)) => name.to_string(),
            None => lower,
        }
    } else {
        lower
    };
    (!n.is_empty()).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_case_and_space() {
        // Unicode lower-casing, not case folding: ß stays ß, İ lower-cases to i̇.
        assert_eq!(normalize_user("STRAßE@X", false).as_deref(), Some("straße@x"));
        assert_eq!(normalize_user("\u{3000}Ann\u{a0}", false).as_deref(), Some("ann"));
        assert_eq!(normalize_serial_text("ab\u{2003}c"), "ABC");
        let mut buf = String::new();
        assert!(normalize_serial_into("a\u{b}b\u{c}c", &[], &mut buf));
        assert_eq!(buf, "ABC");
        assert_eq!(normalize_hostname("İST.example").as_deref(), Some("i\u{307}st"));
    }

    #[test]
    fn ip_addresses_are_not_hostnames() {
        for ip in ["192.168.1.1", "::1", "2001:db8::1", "fe80::1%eth0", " 10.0.0.1 "] {
            assert_eq!(normalize_hostname(ip), None, "{ip}");
        }
        assert_eq!(normalize_hostname("1.2.3").as_deref(), Some("1"));
        assert_eq!(normalize_hostname(".hidden"), None);
    }

    #[test]
    fn netbios_splits_at_first_backslash() {
        assert_eq!(normalize_user("A\\B\\C", true).as_deref(), Some("b\\c"));
    }
}
