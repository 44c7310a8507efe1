//! The order of exclusion (DESIGN A2, A9): each unique signal's fate, with
//! the exceptions that have a code.

use super::ExceptionRecord;
use crate::canon::time::Instant;
use crate::input::catalog::MasterData;
use crate::input::intern::NONE;
use crate::input::ruleset::Ruleset;
use crate::input::signals::{Kind, SignalStore};
use crate::vocab::ExceptionCode;

/// Why a signal does not qualify (the order of exclusion, DESIGN A9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Passed every exclusion; resolved to this SKU index.
    Qualified(u32),
    /// A session of this SKU that lies outside the window on its own. It does
    /// not qualify (nor feed identity), but an identical session (same user,
    /// host and start) that reaches into the window takes its end and
    /// quantity: identical sessions collapse before clipping (DESIGN A9).
    ClippedSession(u32),
    /// Set aside (with or without an exception).
    Excluded,
}

/// Decide each unique signal's fate; record exceptions for the reasons that
/// have one (`future_signal`, `unknown_sku`, `unmapped_product`,
/// `low_confidence`, `invalid_interval`).
pub(crate) fn qualify(
    store: &SignalStore,
    md: &MasterData,
    rs: &Ruleset,
    as_of: Instant,
    unique: &[u32],
    exceptions: &mut Vec<ExceptionRecord>,
) -> Vec<Fate> {
    let mut fates = vec![Fate::Excluded; store.rows.len()];
    let sku_cache: Vec<Option<u32>> =
        (0..store.sku_texts.len() as u32).map(|t| md.sku_index(store.sku_texts.resolve(t)).map(|k| k as u32)).collect();
    let product_cache: Vec<Option<u32>> = (0..store.products.len() as u32)
        .map(|p| rs.map_product(store.products.resolve(p)).and_then(|id| md.sku_index(id)).map(|k| k as u32))
        .collect();
    // A lookback reaching before the first representable instant excludes
    // nothing: the start is then "none" (exact, not saturated).
    let lookback_start = |kind: Kind| rs.lookback_days(kind).and_then(|d| as_of.checked_plus_days(d.checked_neg()?));
    let starts = [Kind::Assignment, Kind::Installation, Kind::Usage, Kind::Session].map(lookback_start);
    let window_start = window_start(as_of, rs.window_days);
    let min_conf = rs.min_confidence.0;
    for &i in unique {
        let s = &store.rows[i as usize];
        let mut exc = |code: ExceptionCode, detail: String| {
            exceptions.push(ExceptionRecord {
                code: code.name(),
                source: store.source_of(s).to_string(),
                raw_id: store.raw_id_of(s).to_string(),
                detail,
            })
        };
        if s.observed_at > as_of {
            exc(ExceptionCode::FutureSignal, format!("observed_at {} is after as_of {}", s.observed_at, as_of));
            continue;
        }
        if let Some(start) = starts[s.kind as usize] {
            if s.observed_at <= start {
                continue; // outside its kind's lookback: silent
            }
        }
        let sku = if s.sku_text != NONE {
            match sku_cache[s.sku_text as usize] {
                Some(k) => k,
                None => {
                    exc(ExceptionCode::UnknownSku, format!("SKU `{}` is not in the catalog", store.sku_texts.resolve(s.sku_text)));
                    continue;
                }
            }
        } else {
            match product_cache[s.product as usize] {
                Some(k) => k,
                None => {
                    exc(
                        ExceptionCode::UnmappedProduct,
                        format!("product `{}` matches no sku_mappings rule", store.products.resolve(s.product)),
                    );
                    continue;
                }
            }
        };
        if (s.confidence as i128) < min_conf {
            exc(ExceptionCode::LowConfidence, "confidence is below min_confidence".to_string());
            continue;
        }
        if s.kind == Kind::Session {
            let Some(d) = s.session_data(store) else { continue };
            let start = d.start;
            if let Some(end) = d.end {
                if end <= start {
                    exc(ExceptionCode::InvalidInterval, format!("session_end {end} is not after session_start {start}"));
                    continue;
                }
            }
            let end = d.end.map_or(as_of, |e| e.min(as_of));
            if window_start.map_or(start, |w| start.max(w)) >= end {
                fates[i as usize] = Fate::ClippedSession(sku); // clipped away: silent
                continue;
            }
        }
        fates[i as usize] = Fate::Qualified(sku);
    }
    fates
}

/// `as_of − window_days`, or `None` when that lies before the first
/// representable instant (no lower bound: exact, not saturated).
pub(crate) fn window_start(as_of: Instant, window_days: i64) -> Option<Instant> {
    as_of.checked_plus_days(window_days.checked_neg()?)
}
