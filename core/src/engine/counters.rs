//! The counters of one SKU or pool (DESIGN A4): Entitled, Reserved,
//! Consumed, Remaining, Available, and the exact-integer bound they live in.

use crate::canon::numbers::percent_2dp;
use crate::canon::time::Date;
use crate::error::{Error, ErrorCode};
use crate::input::catalog::{MasterData, Sku};
use crate::vocab::ComplianceStatus;

/// Counters of one SKU or pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Entitled units.
    pub entitled: i64,
    /// Reserved units.
    pub reserved: i64,
    /// Reservation actually held: `min(reserved, max(0, entitled − consumed))`.
    pub reserved_effective: i64,
    /// Consumed units.
    pub consumed: i64,
    /// `entitled − consumed − reserved_effective` (negative when over-deployed).
    pub remaining: i64,
    /// `max(0, remaining)`.
    pub available: i64,
}

impl Counters {
    /// Derive the counters from entitled, reserved and consumed (DESIGN A4).
    ///
    /// ```
    /// use eucora_license_core::internal::counters::Counters;
    /// let c = Counters::derive(100, 30, 80);
    /// assert_eq!((c.reserved_effective, c.remaining, c.available), (20, 0, 0));
    /// let over = Counters::derive(10, 5, 12);
    /// assert_eq!((over.reserved_effective, over.remaining, over.available), (0, -2, 0));
    /// ```
    ///
    /// The engine passes non-negative values of at most 2^53 − 1, for which
    /// every result is exact; for other operands the arithmetic saturates
    /// rather than wrap.
    pub fn derive(entitled: i64, reserved: i64, consumed: i64) -> Counters {
        let reserved_effective = reserved.min(entitled.saturating_sub(consumed).max(0));
        let remaining = entitled.saturating_sub(consumed).saturating_sub(reserved_effective);
        Counters { entitled, reserved, reserved_effective, consumed, remaining, available: remaining.max(0) }
    }

    /// `over_deployed`, `under_utilized` or `compliant`.
    pub fn compliance_status(&self, under_utilized_percent: i64) -> ComplianceStatus {
        if self.consumed > self.entitled {
            ComplianceStatus::OverDeployed
        } else if self.entitled > 0 && (self.consumed as i128) * 100 < (self.entitled as i128) * (under_utilized_percent as i128) {
            ComplianceStatus::UnderUtilized
        } else {
            ComplianceStatus::Compliant
        }
    }

    /// `entitled − consumed`.
    pub fn variance(&self) -> i64 {
        self.entitled.saturating_sub(self.consumed)
    }

    /// `variance × 100 / entitled`, two places, half-even; `None` when nothing is entitled.
    pub fn variance_percent(&self) -> Option<String> {
        let variance = self.entitled as i128 - self.consumed as i128;
        (self.entitled != 0).then(|| percent_2dp(variance * 100, self.entitled as i128))
    }

    /// Add another set of counters field by field (totals); `None` when a
    /// sum leaves ±(2^53 − 1), the integers canonical JSON holds exactly
    /// (never a wrapped value).
    pub fn checked_add(&self, o: &Counters) -> Option<Counters> {
        let add = |a: i64, b: i64| a.checked_add(b).filter(|v| v.abs() <= MAX_COUNT);
        Some(Counters {
            entitled: add(self.entitled, o.entitled)?,
            reserved: add(self.reserved, o.reserved)?,
            reserved_effective: add(self.reserved_effective, o.reserved_effective)?,
            consumed: add(self.consumed, o.consumed)?,
            remaining: add(self.remaining, o.remaining)?,
            available: add(self.available, o.available)?,
        })
    }
}

/// The largest counter: 2^53 − 1, the largest integer canonical JSON holds
/// exactly (DESIGN A5). Quantities, their sums and peaks beyond it are
/// refused with an error, never wrapped or rounded.
pub const MAX_COUNT: i64 = crate::canon::canonical::MAX_SAFE_INTEGER;

/// `a + b` when it stays within `0..=MAX_COUNT` (both are non-negative).
pub(crate) fn bounded_add(a: i64, b: i64) -> Option<i64> {
    a.checked_add(b).filter(|v| (0..=MAX_COUNT).contains(v))
}

/// Sum of the quantities of SKU `k`'s entitlements in force on `day`.
pub(crate) fn entitled_on(md: &MasterData, k: usize, sku: &Sku, day: Date) -> Result<i64, Error> {
    let mut entitled: i64 = 0;
    for e in md.entitlements.iter().filter(|e| e.sku == k && e.active_on(day)) {
        entitled = bounded_add(entitled, e.quantity).ok_or_else(|| {
            Error::new(
                ErrorCode::CatalogIntegrity,
                format!("the entitlements of SKU `{}` in force on {day} sum past {MAX_COUNT} (the largest exact JSON integer)", sku.id),
            )
            .at(e.location.clone())
        })?;
    }
    Ok(entitled)
}

/// Sum of the reservations of a SKU's pools.
pub(crate) fn reserved_of(md: &MasterData, sku: &Sku, pool_ids: &[usize]) -> Result<i64, Error> {
    let mut reserved: i64 = 0;
    for &p in pool_ids {
        let pool = &md.pools[p];
        reserved = bounded_add(reserved, pool.reserved).ok_or_else(|| {
            Error::new(
                ErrorCode::CatalogIntegrity,
                format!("the pools of SKU `{}` reserve more than {MAX_COUNT} units in all (the largest exact JSON integer)", sku.id),
            )
            .at(pool.location.clone().with_field("reserved"))
        })?;
    }
    Ok(reserved)
}
