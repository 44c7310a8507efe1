//! Concurrent peaks (DESIGN A4, A9): sessions collapsed, clipped to the
//! window, merged per `dup_group`, and the peak of the tokens held at one
//! instant.

use super::counters::MAX_COUNT;
use super::dedup::job_path;
use super::identity::DeviceId;
use super::qualify::window_start;
use super::units::{Ctx, Unit};
use crate::canon::time::Instant;
use crate::error::{Error, ErrorCode, Location};
use crate::input::intern::NONE;
use crate::input::ruleset::DupGroup;

/// A session interval after identity resolution.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) user: u32,
    pub(crate) host: DeviceId,
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    pub(crate) quantity: u64,
    pub(crate) signals: Vec<u32>,
}

impl Ctx<'_> {
    /// Concurrent peak over the window, and the merged intervals as units.
    pub(crate) fn concurrent_units(&self, sku: &str, mut list: Vec<Session>, counted: &mut Vec<u32>) -> Result<(i64, Vec<Unit>), Error> {
        let key_of = |s: &Session| (s.user, s.host, s.start);
        // Identical (user, host, start) sessions are one: latest end, largest quantity.
        list.sort_by_key(|a| key_of(a));
        let mut collapsed: Vec<Session> = Vec::with_capacity(list.len());
        for s in list {
            match collapsed.last_mut() {
                Some(last) if key_of(last) == key_of(&s) => {
                    last.end = last.end.max(s.end);
                    last.quantity = last.quantity.max(s.quantity);
                    last.signals.extend(s.signals);
                }
                _ => collapsed.push(s),
            }
        }
        // Clip to the window [as_of − window_days, as_of).
        let ws = window_start(self.as_of, self.rs.window_days);
        let mut clipped: Vec<Session> = collapsed
            .into_iter()
            .filter_map(|mut s| {
                if let Some(ws) = ws {
                    s.start = s.start.max(ws);
                }
                s.end = s.end.min(self.as_of);
                (s.start < s.end).then_some(s)
            })
            .collect();
        // Merge overlapping sessions of one group (after clipping).
        let group_of = |s: &Session| -> Option<(u32, u32)> {
            if s.user == NONE {
                return None;
            }
            match self.rs.dup_group {
                DupGroup::None => None,
                DupGroup::User => Some((s.user, NONE)),
                DupGroup::UserHost => Some((s.user, s.host)),
            }
        };
        let mut merged: Vec<Session> = Vec::with_capacity(clipped.len());
        if self.rs.dup_group == DupGroup::None {
            merged = clipped;
        } else {
            clipped.sort_by(|a, b| group_of(a).cmp(&group_of(b)).then(a.start.cmp(&b.start)).then(a.end.cmp(&b.end)));
            for s in clipped {
                let g = group_of(&s);
                match merged.last_mut() {
                    Some(last) if g.is_some() && group_of(last) == g && s.start < last.end => {
                        last.end = last.end.max(s.end);
                        last.quantity = last.quantity.max(s.quantity);
                        last.signals.extend(s.signals);
                    }
                    _ => merged.push(s),
                }
            }
        }
        // Peak of the sum of quantities; at one instant ends come before starts (half-open).
        // Sums in i128: exact for any number of sessions of at most 2^64 − 1
        // tokens each; a peak beyond MAX_COUNT is an error, never saturated.
        let mut events: Vec<(Instant, i8, i128, usize)> = Vec::with_capacity(merged.len() * 2);
        for (n, s) in merged.iter().enumerate() {
            events.push((s.start, 1, s.quantity as i128, n));
            events.push((s.end, 0, -(s.quantity as i128), n));
        }
        events.sort_unstable();
        let (mut cur, mut peak) = (0i128, 0i128);
        for &(_, _, q, n) in &events {
            cur += q;
            peak = peak.max(cur);
            if peak > MAX_COUNT as i128 {
                let mut loc = Location::file("signals");
                if let Some(&i) = merged[n].signals.first() {
                    let s = &self.store.rows[i as usize];
                    loc = Location::line(job_path(self.store, s), s.line as u64);
                }
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "concurrent SKU `{sku}`: the quantities of the sessions open at one instant sum past {MAX_COUNT} (the largest exact JSON integer)"
                    ),
                )
                .at(loc.with_field("quantity")));
            }
        }
        let peak = i64::try_from(peak).unwrap_or(MAX_COUNT);
        for s in &merged {
            counted.extend_from_slice(&s.signals);
        }
        let mut scratch = Vec::new();
        let mut units: Vec<Unit> = merged.into_iter().map(|s| self.session_unit(s, &mut scratch)).collect();
        units.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.canonical.cmp(&b.canonical)));
        Ok((peak, units))
    }
}
