//! The report time zone: which calendar day an instant falls on, and when a local day
//! begins and ends (23 or 25 hours apart across a DST change). Cost Explorer's days are
//! UTC days; Polo files a cost day under the local date of the same name.

use std::fmt;

use serde::{Deserialize, Deserializer};
use time::{Date, Month, OffsetDateTime};

/// An IANA time zone, parsed once (from `[reports] timezone` or `REPORT_TIMEZONE`).
#[derive(Clone)]
pub struct ReportZone {
    name: String,
    zone: jiff::tz::TimeZone,
}

/// A name that is not an IANA time zone.
#[derive(Debug, thiserror::Error)]
#[error("unknown time zone {0:?}: expected an IANA name such as \"UTC\" or \"Europe/Paris\"")]
pub struct UnknownZone(pub String);

impl ReportZone {
    /// Coordinated Universal Time.
    pub fn utc() -> ReportZone {
        ReportZone { name: "UTC".to_owned(), zone: jiff::tz::TimeZone::UTC }
    }

    /// The zone named `name` in the bundled IANA database.
    pub fn parse(name: &str) -> Result<ReportZone, UnknownZone> {
        let zone = jiff::tz::db().get(name).map_err(|_| UnknownZone(name.to_owned()))?;
        Ok(ReportZone { name: name.to_owned(), zone })
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local date at `now`.
    pub fn today(&self, now: OffsetDateTime) -> Date {
        let local = jiff::Timestamp::from_second(now.unix_timestamp())
            .map(|t| t.to_zoned_datetime(self.zone.clone()).date());
        match local {
            Ok(d) => from_civil(d).unwrap_or(now.date()),
            Err(_) => now.date(),
        }
    }

    /// The instant `date` begins in this zone (its first instant when midnight falls in a
    /// DST gap).
    pub fn start_of(&self, date: Date) -> OffsetDateTime {
        let start = jiff::civil::Date::new(
            i16::try_from(date.year()).unwrap_or(i16::MAX),
            i8::try_from(u8::from(date.month())).unwrap_or(1),
            i8::try_from(date.day()).unwrap_or(1),
        )
        .and_then(|d| d.to_zoned_datetime(self.zone.clone()))
        .and_then(|z| z.start_of_day())
        .map(|z| z.timestamp().as_second());
        match start.map(OffsetDateTime::from_unix_timestamp) {
            Ok(Ok(t)) => t,
            _ => date.midnight().assume_utc(),
        }
    }
}

fn from_civil(d: jiff::civil::Date) -> Option<Date> {
    let month = Month::try_from(u8::try_from(d.month()).ok()?).ok()?;
    Date::from_calendar_date(i32::from(d.year()), month, u8::try_from(d.day()).ok()?).ok()
}

impl Default for ReportZone {
    fn default() -> Self {
        ReportZone::utc()
    }
}

impl fmt::Debug for ReportZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReportZone").field(&self.name).finish()
    }
}

impl fmt::Display for ReportZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for ReportZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl<'de> Deserialize<'de> for ReportZone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        ReportZone::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn unknown_zones_are_refused_by_name() {
        let error = ReportZone::parse("Mars/Olympus").unwrap_err().to_string();
        assert!(error.contains("\"Mars/Olympus\""), "{error}");
        assert!(ReportZone::parse("").is_err());
    }

    #[test]
    fn the_local_date_turns_at_local_midnight() {
        let la = ReportZone::parse("America/Los_Angeles").unwrap();
        assert_eq!(la.today(datetime!(2026-12-01 07:59 UTC)), date!(2026 - 11 - 30));
        assert_eq!(la.today(datetime!(2026-12-01 08:00 UTC)), date!(2026 - 12 - 01));
        let tokyo = ReportZone::parse("Asia/Tokyo").unwrap();
        assert_eq!(tokyo.today(datetime!(2026-11-30 15:00 UTC)), date!(2026 - 12 - 01));
        assert_eq!(ReportZone::utc().today(datetime!(2026-11-30 23:59 UTC)), date!(2026 - 11 - 30));
    }

    #[test]
    fn days_are_23_or_25_hours_across_dst() {
        let berlin = ReportZone::parse("Europe/Berlin").unwrap();
        let length = |d: Date| berlin.start_of(d.next_day().unwrap()) - berlin.start_of(d);
        assert_eq!(length(date!(2026 - 03 - 29)), time::Duration::hours(23));
        assert_eq!(length(date!(2026 - 10 - 25)), time::Duration::hours(25));
        assert_eq!(length(date!(2026 - 11 - 25)), time::Duration::hours(24));
        assert_eq!(berlin.start_of(date!(2026 - 11 - 25)), datetime!(2026-11-24 23:00 UTC));
    }

    #[test]
    fn a_midnight_in_a_dst_gap_starts_the_day_at_its_first_instant() {
        // Santiago moves its clocks from 00:00 to 01:00 on the first Sunday of September.
        let santiago = ReportZone::parse("America/Santiago").unwrap();
        let start = santiago.start_of(date!(2026 - 09 - 06));
        assert_eq!(santiago.today(start), date!(2026 - 09 - 06));
        assert_eq!(santiago.today(start - time::Duration::SECOND), date!(2026 - 09 - 05));
    }
}
