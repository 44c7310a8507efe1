//! Exact rationals over `i128` (DESIGN C: no floats): medians, the median
//! absolute deviation, Theil–Sen slopes and half-even rounding to a fixed
//! number of places. Every operation is checked: an overflow is `None`,
//! never a wrapped value or a panic (a rule whose numbers overflow does not
//! fire; the counters of a snapshot stay far below that).

use std::cmp::Ordering;

/// A reduced fraction `n / d` with `d > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rat {
    n: i128,
    d: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

impl Rat {
    /// Zero.
    pub const ZERO: Rat = Rat { n: 0, d: 1 };

    /// `n / d`, reduced; `None` when `d` is 0.
    pub fn new(n: i128, d: i128) -> Option<Rat> {
        if d == 0 {
            return None;
        }
        let (n, d) = if d < 0 { (n.checked_neg()?, d.checked_neg()?) } else { (n, d) };
        let g = gcd(n, d).max(1);
        Some(Rat { n: n / g, d: d / g })
    }

    /// An integer.
    pub fn int(i: i64) -> Rat {
        Rat { n: i as i128, d: 1 }
    }

    /// A decimal literal (`"3.5"`, `"0.6745"`), exactly (to nine places).
    pub fn from_decimal(s: &str) -> Option<Rat> {
        let f = eucora_license_core::internal::numbers::Fixed9::parse(s)?;
        Rat::new(f.0, 1_000_000_000)
    }

    /// The numerator (reduced).
    pub fn numer(self) -> i128 {
        self.n
    }

    /// The denominator (reduced, positive).
    pub fn denom(self) -> i128 {
        self.d
    }

    /// `self + o`.
    pub fn checked_add(self, o: Rat) -> Option<Rat> {
        let g = gcd(self.d, o.d).max(1);
        let l = (self.d / g).checked_mul(o.d)?;
        let a = self.n.checked_mul(l / self.d)?;
        let b = o.n.checked_mul(l / o.d)?;
        Rat::new(a.checked_add(b)?, l)
    }

    /// `self - o`.
    pub fn checked_sub(self, o: Rat) -> Option<Rat> {
        self.checked_add(o.checked_neg()?)
    }

    /// `self × o`.
    pub fn checked_mul(self, o: Rat) -> Option<Rat> {
        let g1 = gcd(self.n, o.d).max(1);
        let g2 = gcd(o.n, self.d).max(1);
        Rat::new((self.n / g1).checked_mul(o.n / g2)?, (self.d / g2).checked_mul(o.d / g1)?)
    }

    /// `self / o`; `None` when `o` is zero.
    pub fn checked_div(self, o: Rat) -> Option<Rat> {
        if o.n == 0 {
            return None;
        }
        self.checked_mul(Rat::new(o.d, o.n)?)
    }

    /// `-self`.
    pub fn checked_neg(self) -> Option<Rat> {
        Some(Rat { n: self.n.checked_neg()?, d: self.d })
    }

    /// `|self|`.
    pub fn checked_abs(self) -> Option<Rat> {
        Some(Rat { n: self.n.checked_abs()?, d: self.d })
    }

    /// Whether the value is zero.
    pub fn is_zero(self) -> bool {
        self.n == 0
    }

    /// Whether the value is above zero.
    pub fn is_positive(self) -> bool {
        self.n > 0
    }

    /// The largest integer `<=` the value.
    pub fn floor(self) -> i128 {
        self.n.div_euclid(self.d)
    }

    /// The smallest integer `>=` the value.
    pub fn ceil(self) -> i128 {
        let f = self.floor();
        if self.n.rem_euclid(self.d) == 0 {
            f
        } else {
            f + 1
        }
    }

    /// The value rounded half-even to `places` decimals, written with
    /// exactly that many (`"12.50"`, `"-0.33"`, `"0.00"`; never `"-0.00"`).
    pub fn round_str(self, places: u32) -> Option<String> {
        let scale = 10i128.checked_pow(places)?;
        let scaled = self.n.checked_mul(scale)?;
        let mut q = scaled.div_euclid(self.d);
        let r = scaled.rem_euclid(self.d);
        match r.checked_mul(2)?.cmp(&self.d) {
            Ordering::Greater => q += 1,
            Ordering::Equal if q.rem_euclid(2) == 1 => q += 1,
            _ => {}
        }
        let neg = q < 0;
        let a = q.unsigned_abs();
        let int = a / scale as u128;
        let frac = a % scale as u128;
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        s.push_str(&int.to_string());
        if places > 0 {
            s.push('.');
            s.push_str(&format!("{frac:0width$}", width = places as usize));
        }
        Some(s)
    }
}

/// Compare `a/b` with `c/d` (`b`, `d` > 0) without overflow: integer parts
/// first, then the inverted remainders (Euclid's algorithm).
fn cmp_frac(a: i128, b: i128, c: i128, d: i128) -> Ordering {
    let (q1, r1) = (a.div_euclid(b), a.rem_euclid(b));
    let (q2, r2) = (c.div_euclid(d), c.rem_euclid(d));
    if q1 != q2 {
        return q1.cmp(&q2);
    }
    match (r1 == 0, r2 == 0) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        // r1/b < r2/d  ⇔  d/r2 < b/r1
        (false, false) => cmp_frac(d, r2, b, r1),
    }
}

impl Ord for Rat {
    fn cmp(&self, o: &Rat) -> Ordering {
        cmp_frac(self.n, self.d, o.n, o.d)
    }
}

impl PartialOrd for Rat {
    fn partial_cmp(&self, o: &Rat) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// The median: the middle value, or the exact mean of the two middle values
/// for an even count; `None` for no values (or an overflow).
pub fn median(mut values: Vec<Rat>) -> Option<Rat> {
    if values.is_empty() {
        return None;
    }
    values.sort();
    let m = values.len() / 2;
    if values.len() % 2 == 1 {
        Some(values[m])
    } else {
        values[m - 1].checked_add(values[m])?.checked_div(Rat::int(2))
    }
}

/// The median absolute deviation from `center`: the median of `|v - center|`.
pub fn mad(values: &[Rat], center: Rat) -> Option<Rat> {
    let devs: Option<Vec<Rat>> = values.iter().map(|v| v.checked_sub(center).and_then(Rat::checked_abs)).collect();
    median(devs?)
}

/// The Theil–Sen line through `(x, y)`: `b` = the median of the slopes over
/// all pairs `i < j` with `x_j != x_i`, `a` = the median of `y_i - b x_i`.
/// `None` when every `x` is equal (no line) or on overflow.
pub fn theil_sen(points: &[(Rat, Rat)]) -> Option<(Rat, Rat)> {
    let mut slopes = Vec::new();
    for (i, (xi, yi)) in points.iter().enumerate() {
        for (xj, yj) in &points[i + 1..] {
            if xj != xi {
                slopes.push(yj.checked_sub(*yi)?.checked_div(xj.checked_sub(*xi)?)?);
            }
        }
    }
    let b = median(slopes)?;
    let intercepts: Option<Vec<Rat>> = points.iter().map(|(x, y)| y.checked_sub(b.checked_mul(*x)?)).collect();
    let a = median(intercepts?)?;
    Some((b, a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: i128, d: i128) -> Rat {
        Rat::new(n, d).unwrap()
    }

    #[test]
    fn rounds_half_even_with_fixed_places() {
        assert_eq!(r(1, 8).round_str(2).unwrap(), "0.12"); // 0.125 → even 0.12
        assert_eq!(r(3, 8).round_str(2).unwrap(), "0.38"); // 0.375 → even 0.38
        assert_eq!(r(-1, 8).round_str(2).unwrap(), "-0.12");
        assert_eq!(r(-1, 1000).round_str(2).unwrap(), "0.00");
        assert_eq!(r(25, 2).round_str(2).unwrap(), "12.50");
        assert_eq!(r(2, 3).round_str(4).unwrap(), "0.6667");
        assert_eq!(Rat::int(7).round_str(0).unwrap(), "7");
    }

    #[test]
    fn orders_without_overflow() {
        let big = i128::MAX / 3;
        assert!(r(big, big - 1) > r(big - 1, big - 2) || r(big, big - 1) < r(big - 1, big - 2));
        assert!(r(1, 3) < r(1, 2));
        assert!(r(-1, 2) < r(-1, 3));
        assert_eq!(r(2, 4).cmp(&r(1, 2)), Ordering::Equal);
    }

    #[test]
    fn median_of_even_count_is_exact_mean() {
        assert_eq!(median(vec![Rat::int(1), Rat::int(4), Rat::int(2), Rat::int(3)]), Some(r(5, 2)));
        assert_eq!(median(vec![]), None);
        let vals: Vec<Rat> = [1, 1, 2, 2, 4, 6, 9].iter().map(|&i| Rat::int(i)).collect();
        assert_eq!(mad(&vals, Rat::int(2)), Some(Rat::int(1)));
    }

    #[test]
    fn theil_sen_ignores_one_outlier() {
        let pts: Vec<(Rat, Rat)> = (0..7).map(|i| (Rat::int(i), Rat::int(if i == 3 { 100 } else { 2 * i + 1 }))).collect();
        assert_eq!(theil_sen(&pts), Some((Rat::int(2), Rat::int(1))));
        let flat: Vec<(Rat, Rat)> = (0..3).map(|i| (Rat::int(1), Rat::int(i))).collect();
        assert_eq!(theil_sen(&flat), None);
    }

    #[test]
    fn ceil_and_floor() {
        assert_eq!((r(7, 2).floor(), r(7, 2).ceil()), (3, 4));
        assert_eq!((r(-7, 2).floor(), r(-7, 2).ceil()), (-4, -3));
        assert_eq!((Rat::int(3).floor(), Rat::int(3).ceil()), (3, 3));
    }
}
