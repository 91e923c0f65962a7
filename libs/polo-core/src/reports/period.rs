//! Report periods: a day, an ISO week or a calendar month of the report time zone, each
//! from its first local midnight to the next period's (a day is 23 or 25 hours across DST).

use std::fmt;

use time::{Date, Duration, Month, OffsetDateTime, Weekday};

use crate::calendar::ReportZone;

/// How long a report type's period is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    /// How a period of this length is written, for errors.
    pub fn example(self) -> &'static str {
        match self {
            Granularity::Day => "a date like 2026-03-08",
            Granularity::Week => "an ISO week like 2026-W10",
            Granularity::Month => "a month like 2026-03",
        }
    }
}

/// One period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Day(Date),
    /// An ISO 8601 week: Monday to Sunday, in the ISO week-numbering year.
    Week {
        year: i32,
        week: u8,
    },
    Month {
        year: i32,
        month: Month,
    },
}

/// A period that cannot be used, said in one line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("period {text:?}: expected {expected}")]
    Malformed { text: String, expected: &'static str },
    #[error("period {period} is not complete until {end} ({zone}); the last complete one is {last}")]
    Incomplete { period: String, end: String, zone: String, last: String },
}

impl Period {
    /// Parses `text` as a period of `granularity`.
    pub fn parse(text: &str, granularity: Granularity) -> Result<Period, PeriodError> {
        let malformed = || PeriodError::Malformed { text: text.to_owned(), expected: granularity.example() };
        let number = |s: &str| -> Option<i32> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
        };
        let period = match granularity {
            Granularity::Day => {
                let mut parts = text.splitn(3, '-');
                let (y, m, d) = (parts.next(), parts.next(), parts.next());
                let (Some(y), Some(m), Some(d)) = (y, m, d) else { return Err(malformed()) };
                if y.len() != 4 || m.len() != 2 || d.len() != 2 {
                    return Err(malformed());
                }
                let month =
                    number(m).and_then(|m| u8::try_from(m).ok()).and_then(|m| Month::try_from(m).ok());
                let day = number(d).and_then(|d| u8::try_from(d).ok());
                match (number(y), month, day) {
                    (Some(y), Some(m), Some(d)) => {
                        Period::Day(Date::from_calendar_date(y, m, d).map_err(|_| malformed())?)
                    }
                    _ => return Err(malformed()),
                }
            }
            Granularity::Week => {
                let Some((y, w)) = text.split_once("-W") else { return Err(malformed()) };
                if y.len() != 4 || w.len() != 2 {
                    return Err(malformed());
                }
                let (Some(year), Some(week)) = (number(y), number(w).and_then(|w| u8::try_from(w).ok()))
                else {
                    return Err(malformed());
                };
                Date::from_iso_week_date(year, week, Weekday::Monday).map_err(|_| malformed())?;
                Period::Week { year, week }
            }
            Granularity::Month => {
                let Some((y, m)) = text.split_once('-') else { return Err(malformed()) };
                if y.len() != 4 || m.len() != 2 {
                    return Err(malformed());
                }
                let month =
                    number(m).and_then(|m| u8::try_from(m).ok()).and_then(|m| Month::try_from(m).ok());
                let (Some(year), Some(month)) = (number(y), month) else { return Err(malformed()) };
                Period::Month { year, month }
            }
        };
        Ok(period)
    }

    /// The period of `granularity` that holds `date`.
    pub fn containing(granularity: Granularity, date: Date) -> Period {
        match granularity {
            Granularity::Day => Period::Day(date),
            Granularity::Week => {
                let (year, week, _) = date.to_iso_week_date();
                Period::Week { year, week }
            }
            Granularity::Month => Period::Month { year: date.year(), month: date.month() },
        }
    }

    /// The last period of `granularity` complete at `now` in `zone`: the one before the
    /// period holding today's local date.
    pub fn last_complete(granularity: Granularity, now: OffsetDateTime, zone: &ReportZone) -> Period {
        Period::containing(granularity, zone.today(now)).previous()
    }

    /// How long the period is.
    pub fn granularity(&self) -> Granularity {
        match self {
            Period::Day(_) => Granularity::Day,
            Period::Week { .. } => Granularity::Week,
            Period::Month { .. } => Granularity::Month,
        }
    }

    /// Its first local date.
    pub fn first_day(&self) -> Date {
        match *self {
            Period::Day(d) => d,
            Period::Week { year, week } => {
                Date::from_iso_week_date(year, week, Weekday::Monday).unwrap_or(Date::MIN)
            }
            Period::Month { year, month } => Date::from_calendar_date(year, month, 1).unwrap_or(Date::MIN),
        }
    }

    /// Its last local date.
    pub fn last_day(&self) -> Date {
        self.next().first_day() - Duration::days(1)
    }

    /// The local dates it holds.
    pub fn days(&self) -> impl Iterator<Item = Date> {
        let (first, last) = (self.first_day(), self.last_day());
        std::iter::successors(Some(first), move |d| d.next_day().filter(|n| *n <= last))
    }

    /// The period before.
    #[must_use]
    pub fn previous(&self) -> Period {
        Period::containing(self.granularity(), self.first_day() - Duration::days(1))
    }

    /// The period after.
    #[must_use]
    pub fn next(&self) -> Period {
        match *self {
            Period::Day(d) => Period::Day(d + Duration::days(1)),
            Period::Week { .. } => {
                Period::containing(Granularity::Week, self.first_day() + Duration::days(7))
            }
            Period::Month { year, month } => match month {
                Month::December => Period::Month { year: year + 1, month: Month::January },
                m => Period::Month { year, month: m.next() },
            },
        }
    }

    /// Its bounds in `zone`: the instant its first day begins, and the instant the next
    /// period begins (exclusive).
    pub fn bounds(&self, zone: &ReportZone) -> (OffsetDateTime, OffsetDateTime) {
        (zone.start_of(self.first_day()), zone.start_of(self.next().first_day()))
    }

    /// The period, if it has ended at `now` in `zone`; else an error naming when it does and
    /// the last one that has.
    pub fn complete_at(self, now: OffsetDateTime, zone: &ReportZone) -> Result<Period, PeriodError> {
        let (_, end) = self.bounds(zone);
        if end <= now {
            return Ok(self);
        }
        Err(PeriodError::Incomplete {
            period: self.to_string(),
            end: crate::text::rfc3339(end),
            zone: zone.name().to_owned(),
            last: Period::last_complete(self.granularity(), now, zone).to_string(),
        })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Day(d) => write!(f, "{d}"),
            Period::Week { year, week } => write!(f, "{year:04}-W{week:02}"),
            Period::Month { year, month } => write!(f, "{year:04}-{:02}", u8::from(month)),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn zone(name: &str) -> ReportZone {
        ReportZone::parse(name).unwrap()
    }

    fn hours(p: Period, z: &ReportZone) -> i64 {
        let (start, end) = p.bounds(z);
        (end - start).whole_hours()
    }

    #[test]
    fn days_are_23_or_25_hours_across_both_dst_changes() {
        for (name, spring, autumn) in [
            ("America/New_York", date!(2026 - 03 - 08), date!(2026 - 11 - 01)),
            ("Europe/Berlin", date!(2026 - 03 - 29), date!(2026 - 10 - 25)),
            ("Australia/Sydney", date!(2026 - 10 - 04), date!(2026 - 04 - 05)),
        ] {
            let z = zone(name);
            assert_eq!(hours(Period::Day(spring), &z), 23, "{name} {spring}");
            assert_eq!(hours(Period::Day(autumn), &z), 25, "{name} {autumn}");
            assert_eq!(hours(Period::Day(spring + Duration::days(1)), &z), 24, "{name}");
        }
        let (start, end) = Period::Day(date!(2026 - 11 - 01)).bounds(&zone("America/New_York"));
        assert_eq!((start, end), (datetime!(2026-11-01 04:00 UTC), datetime!(2026-11-02 05:00 UTC)));
    }

    #[test]
    fn iso_week_53_february_29_and_months_ending_on_the_31st() {
        let w53 = Period::parse("2026-W53", Granularity::Week).unwrap();
        assert_eq!((w53.first_day(), w53.last_day()), (date!(2026 - 12 - 28), date!(2027 - 01 - 03)));
        assert_eq!(w53.next().to_string(), "2027-W01");
        assert_eq!(Period::containing(Granularity::Week, date!(2027 - 01 - 01)), w53);
        assert!(Period::parse("2025-W53", Granularity::Week).is_err(), "2025 has 52 ISO weeks");
        let leap = Period::parse("2028-02", Granularity::Month).unwrap();
        assert_eq!(leap.last_day(), date!(2028 - 02 - 29));
        assert_eq!(leap.days().count(), 29);
        assert!(Period::parse("2028-02-29", Granularity::Day).is_ok());
        assert!(Period::parse("2027-02-29", Granularity::Day).is_err());
        let march = Period::parse("2026-03", Granularity::Month).unwrap();
        assert_eq!(
            (march.last_day(), march.next().to_string()),
            (date!(2026 - 03 - 31), "2026-04".to_owned())
        );
        assert_eq!(Period::Month { year: 2026, month: Month::December }.next().to_string(), "2027-01");
        assert_eq!(march.previous().to_string(), "2026-02");
    }

    #[test]
    fn the_default_period_at_half_past_midnight_is_the_day_before() {
        for name in ["America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"] {
            let z = zone(name);
            // 00:30 local on 9 March 2026, whatever the offset.
            let midnight = z.start_of(date!(2026 - 03 - 09));
            let now = midnight + Duration::minutes(30);
            assert_eq!(
                Period::last_complete(Granularity::Day, now, &z),
                Period::Day(date!(2026 - 03 - 08)),
                "{name}"
            );
            assert_eq!(Period::last_complete(Granularity::Week, now, &z).to_string(), "2026-W10", "{name}");
            assert_eq!(Period::last_complete(Granularity::Month, now, &z).to_string(), "2026-02", "{name}");
            assert_eq!(
                Period::last_complete(Granularity::Day, midnight - Duration::SECOND, &z),
                Period::Day(date!(2026 - 03 - 07))
            );
        }
    }

    #[test]
    fn an_incomplete_period_is_refused_naming_when_it_ends() {
        let z = zone("Europe/Berlin");
        let now = datetime!(2026-03-08 22:30 UTC); // 23:30 in Berlin
        let e = Period::Day(date!(2026 - 03 - 08)).complete_at(now, &z).unwrap_err().to_string();
        assert_eq!(
            e,
            "period 2026-03-08 is not complete until 2026-03-08T23:00:00Z (Europe/Berlin); the last complete one is 2026-03-07"
        );
        assert!(Period::Day(date!(2026 - 03 - 08)).complete_at(datetime!(2026-03-08 23:00 UTC), &z).is_ok());
    }

    #[test]
    fn malformed_periods_say_what_was_expected() {
        for (text, g) in [
            ("2026-3-8", Granularity::Day),
            ("2026-03-08", Granularity::Week),
            ("2026-W1", Granularity::Week),
            ("2026-W00", Granularity::Week),
            ("2026-13", Granularity::Month),
            ("yesterday", Granularity::Day),
            ("+2026-03", Granularity::Month),
        ] {
            let e = Period::parse(text, g).unwrap_err().to_string();
            assert_eq!(e, format!("period {text:?}: expected {}", g.example()));
        }
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::{Granularity, Period};
    use crate::reports::ReportType;

    proptest! {
        #![proptest_config(polo_fuzz::config(512))]

        #[test]
        fn fuzz_period_and_report_type(text in prop_oneof![
            any::<String>(),
            "[0-9]{1,5}-(W)?[0-9]{1,3}(-[0-9]{1,3})?",
        ]) {
            for granularity in [Granularity::Day, Granularity::Week, Granularity::Month] {
                if let Err(e) = Period::parse(&text, granularity) {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
            if let Err(e) = ReportType::parse(&text) {
                prop_assert!(e.to_string().contains("report type") || !e.to_string().is_empty());
            }
            if let Err(e) = crate::calendar::ReportZone::parse(&text) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}
