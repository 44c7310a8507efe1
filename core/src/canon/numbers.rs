//! Number literals and exact decimal arithmetic without floats.
//!
//! Decimal literals follow DESIGN A10: `[+-]?(\d+(\.\d+)?|\.\d+)`, no
//! exponents or separators, more than nine fractional digits truncated. They
//! are held as integers scaled by 10^9 ([`Fixed9`]), which is exact for every
//! value the contract admits and keeps floats out of hashed data.

/// A decimal scaled by 10^9 (`1.5` is `1_500_000_000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fixed9(pub i128);

/// 10^9, the scale of [`Fixed9`].
pub(crate) const SCALE: i128 = 1_000_000_000;

impl Fixed9 {
    /// One.
    pub const ONE: Fixed9 = Fixed9(SCALE);
    /// Zero.
    pub const ZERO: Fixed9 = Fixed9(0);

    /// Parse a decimal literal.
    ///
    /// ```
    /// use eucora_license_core::internal::numbers::Fixed9;
    /// assert_eq!(Fixed9::parse("0.5"), Some(Fixed9(500_000_000)));
    /// assert_eq!(Fixed9::parse(".25"), Some(Fixed9(250_000_000)));
    /// assert_eq!(Fixed9::parse("+1"), Some(Fixed9::ONE));
    /// assert_eq!(Fixed9::parse("0.1234567891"), Some(Fixed9(123_456_789)));
    /// assert_eq!(Fixed9::parse("1e3"), None);
    /// assert_eq!(Fixed9::parse("1."), None);
    /// ```
    pub fn parse(s: &str) -> Option<Fixed9> {
        let b = s.as_bytes();
        let (neg, rest) = match b.first()? {
            b'+' => (false, &b[1..]),
            b'-' => (true, &b[1..]),
            _ => (false, b),
        };
        let (int_part, frac_part) = match rest.iter().position(|&c| c == b'.') {
            Some(p) => (&rest[..p], Some(&rest[p + 1..])),
            None => (rest, None),
        };
        if !int_part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        if let Some(f) = frac_part {
            if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
                return None;
            }
        } else if int_part.is_empty() {
            return None;
        }
        let mut int: i128 = 0;
        for &c in int_part {
            int = int.checked_mul(10)?.checked_add((c - b'0') as i128)?;
        }
        let mut frac: i128 = 0;
        let mut digits = 0;
        for &c in frac_part.unwrap_or(&[]).iter().take(9) {
            frac = frac * 10 + (c - b'0') as i128;
            digits += 1;
        }
        while digits < 9 {
            frac *= 10;
            digits += 1;
        }
        let v = int.checked_mul(SCALE)?.checked_add(frac)?;
        Some(Fixed9(if neg { -v } else { v }))
    }

    /// Canonical decimal text: no exponent, no trailing fractional zeros, no `-0`.
    ///
    /// ```
    /// use eucora_license_core::internal::numbers::Fixed9;
    /// assert_eq!(Fixed9::parse("0.50").unwrap().to_canonical_string(), "0.5");
    /// assert_eq!(Fixed9::parse("-0.0").unwrap().to_canonical_string(), "0");
    /// ```
    pub fn to_canonical_string(self) -> String {
        let neg = self.0 < 0;
        let a = self.0.unsigned_abs();
        let int = a / SCALE as u128;
        let frac = a % SCALE as u128;
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        s.push_str(&int.to_string());
        if frac != 0 {
            let f = format!("{frac:09}");
            s.push('.');
            s.push_str(f.trim_end_matches('0'));
        }
        s
    }
}

/// Parse an integer literal `[+-]?\d+` (DESIGN A10).
///
/// ```
/// use eucora_license_core::internal::numbers::parse_integer;
/// assert_eq!(parse_integer("+12"), Some(12));
/// assert_eq!(parse_integer("-3"), Some(-3));
/// assert_eq!(parse_integer("1.0"), None);
/// assert_eq!(parse_integer("1_000"), None);
/// ```
pub fn parse_integer(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first()? {
        b'+' => (false, &b[1..]),
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

/// `numerator / denominator` rounded half-even to two decimal places, written
/// with exactly two places and never as `-0.00`.
///
/// The rounding is done on the exact rational value (DESIGN A9), so
/// `variance_percent` is reproducible in any language with integers.
///
/// ```
/// use eucora_license_core::internal::numbers::percent_2dp;
/// assert_eq!(percent_2dp(20 * 100, 100), "20.00");
/// assert_eq!(percent_2dp(100, 3), "33.33");
/// assert_eq!(percent_2dp(1, 8), "0.12");   // 0.125 -> 0.12 (half to even)
/// assert_eq!(percent_2dp(3, 8), "0.38");   // 0.375 -> 0.38
/// assert_eq!(percent_2dp(-1, 1000), "0.00");
/// ```
pub fn percent_2dp(numerator: i128, denominator: i128) -> String {
    assert!(denominator != 0, "percent_2dp needs a non-zero denominator");
    // Work on magnitudes (u128) so that no sign flip or ×100 can overflow:
    // |n| × 100 / |d| = q1 × 100 + (r1 × 100) / |d| with r1 < |d|.
    let neg_in = (numerator < 0) != (denominator < 0);
    let (n, d) = (numerator.unsigned_abs(), denominator.unsigned_abs());
    let (q1, r1) = (n / d, n % d);
    let (q, r) = match r1.checked_mul(100) {
        Some(r100) => (q1.saturating_mul(100).saturating_add(r100 / d), r100 % d),
        // |d| > u128::MAX / 100: add r1 one hundred times modulo |d|,
        // counting the carries.
        None => {
            let (mut q2, mut r2) = (0u128, 0u128);
            for _ in 0..100 {
                if r1 >= d - r2 {
                    q2 += 1;
                    r2 = r1 - (d - r2);
                } else {
                    r2 += r1;
                }
            }
            (q1.saturating_mul(100).saturating_add(q2), r2)
        }
    };
    // Round half to even on the exact remainder (on the magnitude: half-even
    // is symmetric).
    let twice_ge = r >= d - r; // 2r ≥ d without overflow
    let twice_eq = r == d - r;
    let rounded = if (twice_ge && !twice_eq) || (twice_eq && q % 2 != 0) { q.saturating_add(1) } else { q };
    let neg = neg_in && rounded != 0;
    format!("{}{}.{:02}", if neg { "-" } else { "" }, rounded / 100, rounded % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_literal_grammar() {
        for ok in ["0", "1", "0.5", ".5", "+.5", "-0", "00.10", "1.000000000000"] {
            assert!(Fixed9::parse(ok).is_some(), "{ok}");
        }
        for bad in ["", "+", "-", ".", "1.", "1e3", "1,5", " 1", "0x1", "1.2.3", "١"] {
            assert_eq!(Fixed9::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn percent_rounding_half_even_both_signs() {
        assert_eq!(percent_2dp(-1, 8), "-0.12");
        assert_eq!(percent_2dp(-3, 8), "-0.38");
        assert_eq!(percent_2dp(5, 1000), "0.00"); // 0.005 -> 0.00 (even)
        assert_eq!(percent_2dp(15, 1000), "0.02"); // 0.015 -> 0.02 (even)
        assert_eq!(percent_2dp(-5 * 100, 100), "-5.00");
        assert_eq!(percent_2dp(0, 7), "0.00");
        assert_eq!(percent_2dp(-4, 1000), "0.00");
        assert_eq!(percent_2dp(1, -8), "-0.12");
        assert_eq!(percent_2dp(-3, -8), "0.38");
    }

    #[test]
    fn percent_never_overflows() {
        // Extreme operands: exact, no wrap, no panic.
        assert_eq!(percent_2dp(i64::MAX as i128 * 100, i64::MAX as i128), "100.00");
        assert_eq!(percent_2dp(i128::MIN, i128::MIN), "1.00");
        assert_eq!(percent_2dp(i128::MAX / 2, i128::MAX), "0.50");
        assert_eq!(percent_2dp(1, i128::MAX), "0.00");
    }
}
