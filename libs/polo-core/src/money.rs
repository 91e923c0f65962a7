//! Money as an exact decimal amount in USD.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Sub};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of US dollars, exact to any scale. Serialized as a decimal string
/// (`"1234.56"`), never as a float.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

/// Hours in the average month, the factor between an hourly and a monthly run-rate.
pub const HOURS_PER_MONTH: u32 = 730;

impl Money {
    /// Zero dollars.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Wraps an exact decimal amount.
    pub fn new(amount: Decimal) -> Self {
        Money(amount)
    }

    /// `units / 10^scale` dollars: `Money::from_scaled(12345, 2)` is $123.45.
    pub fn from_scaled(units: i64, scale: u32) -> Self {
        Money(Decimal::new(units, scale))
    }

    /// The exact decimal amount.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// Rounded to whole cents, half away from zero.
    #[must_use]
    pub fn round_cents(self) -> Self {
        Money(self.0.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
    }

    /// True for exactly zero.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Rounded to cents with thousands separators, for people: `"67,864.60"`, `"-1,200.00"`.
    pub fn to_grouped_cents(self) -> String {
        let text = self.round_cents().to_string();
        let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |rest| ("-", rest));
        let (whole, cents) = digits.split_once('.').unwrap_or((digits, "00"));
        format!("{sign}{}.{cents}", crate::text::group_digits(whole))
    }

    /// The amount without its sign.
    #[must_use]
    pub fn abs(self) -> Self {
        Money(self.0.abs())
    }

    /// The monthly amount of an hourly rate (730 hours), exact.
    #[must_use]
    pub fn hourly_to_monthly(self) -> Self {
        Money(self.0 * Decimal::from(HOURS_PER_MONTH))
    }
}

impl fmt::Display for Money {
    /// At least two decimals (`"12.50"`), more when the amount has them (`"0.0960"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.scale() < 2 {
            let mut padded = d;
            padded.rescale(2);
            write!(f, "{padded}")
        } else {
            write!(f, "{d}")
        }
    }
}

/// The error for a string that is not a decimal amount.
#[derive(Debug, thiserror::Error)]
#[error("not a decimal amount: {0:?}")]
pub struct ParseMoneyError(String);

impl FromStr for Money {
    type Err = ParseMoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_str_exact(s.trim()).map(Money).map_err(|_| ParseMoneyError(s.to_owned()))
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Mul<Decimal> for Money {
    type Output = Money;
    fn mul(self, rhs: Decimal) -> Money {
        Money(self.0 * rhs)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.copied().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_at_least_two_decimals() {
        assert_eq!(Money::from_scaled(5, 0).to_string(), "5.00");
        assert_eq!(Money::from_scaled(1250, 2).to_string(), "12.50");
        assert_eq!(Money::from_scaled(960, 4).to_string(), "0.0960");
        assert_eq!(Money::from_scaled(-3, 1).to_string(), "-0.30");
    }

    #[test]
    fn round_trips_as_a_string() {
        let m: Money = serde_json::from_str("\"1234.56\"").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"1234.56\"");
        assert!(serde_json::from_str::<Money>("12.5").is_err());
        assert!(serde_json::from_str::<Money>("\"12,5\"").is_err());
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(Money::from_scaled(6_786_460, 2).to_grouped_cents(), "67,864.60");
        assert_eq!(Money::from_scaled(-120_000, 2).to_grouped_cents(), "-1,200.00");
        assert_eq!(Money::from_scaled(999, 2).to_grouped_cents(), "9.99");
        assert_eq!(Money::from_scaled(1_000_000_005, 3).to_grouped_cents(), "1,000,000.01");
        assert_eq!(Money::from_scaled(5, 0).to_grouped_cents(), "5.00");
    }

    #[test]
    fn sums_exactly() {
        let cents: Vec<Money> = (0..1000).map(|_| Money::from_scaled(1, 2)).collect();
        assert_eq!(cents.iter().sum::<Money>(), Money::from_scaled(10, 0));
        assert_eq!(Money::from_scaled(1005, 3).round_cents().to_string(), "1.01");
        assert_eq!(Money::from_scaled(96, 3).hourly_to_monthly().to_string(), "70.080");
    }
}
