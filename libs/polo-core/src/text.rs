//! Small text helpers shared by pages and reports.

use time::{Duration, OffsetDateTime};

/// `digits` with a comma before every third from the right: `"1234567"` is `"1,234,567"`.
pub fn group_digits(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// A coarse, human age: "just now", "5 minutes", "3 hours", "12 days", "2 months", "3 years".
pub fn human_duration(d: Duration) -> String {
    let secs = d.whole_seconds().max(0);
    let (n, unit) = match secs {
        0..60 => return "just now".to_owned(),
        60..3_600 => (secs / 60, "minute"),
        3_600..86_400 => (secs / 3_600, "hour"),
        86_400..5_184_000 => (secs / 86_400, "day"),
        5_184_000..63_072_000 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

/// The age of `then` at `now`, as [`human_duration`] words; "in the future" when it is ahead.
pub fn age(then: OffsetDateTime, now: OffsetDateTime) -> String {
    if then > now + Duration::minutes(5) { "in the future".to_owned() } else { human_duration(now - then) }
}

/// When `then` was, said from `now`: "just now", "3 hours ago", or "in the future".
pub fn ago(then: OffsetDateTime, now: OffsetDateTime) -> String {
    match age(then, now) {
        text if text == "just now" || text == "in the future" => text,
        text => format!("{text} ago"),
    }
}

/// A calendar day written `YYYY-MM-DD`, the one way Polo reads a day.
pub fn parse_date(text: &str) -> Result<time::Date, time::error::Parse> {
    time::Date::parse(text.trim(), time::macros::format_description!("[year]-[month]-[day]"))
}

/// RFC 3339 in UTC with seconds (`2026-03-08T12:00:00Z`), the one time format Polo prints.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
    format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z", t.hour(), t.minute(), t.second())
}

/// Case-insensitive "does `haystack` contain `needle`", where `needle` is already lowercase.
pub fn contains_lower(haystack: &str, needle_lower: &str) -> bool {
    if haystack.is_ascii() && needle_lower.is_ascii() {
        haystack
            .as_bytes()
            .windows(needle_lower.len().max(1))
            .any(|w| w.eq_ignore_ascii_case(needle_lower.as_bytes()))
            || needle_lower.is_empty()
    } else {
        haystack.to_lowercase().contains(needle_lower)
    }
}

/// Whether `text` matches `pattern`: `*` any run of characters (none too), `?` one, the rest
/// itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // The classic two-pointer walk, backtracking to the last star.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn ages_read_like_people_speak() {
        assert_eq!(human_duration(Duration::seconds(5)), "just now");
        assert_eq!(human_duration(Duration::minutes(1)), "1 minute");
        assert_eq!(human_duration(Duration::hours(5)), "5 hours");
        assert_eq!(human_duration(Duration::days(3)), "3 days");
        assert_eq!(human_duration(Duration::days(90)), "3 months");
        assert_eq!(human_duration(Duration::days(800)), "2 years");
        let now = datetime!(2026-03-08 12:00 UTC);
        assert_eq!(age(now + Duration::days(1), now), "in the future");
    }

    #[test]
    fn prints_utc() {
        assert_eq!(rfc3339(datetime!(2026-03-08 13:04:05 +01:00)), "2026-03-08T12:04:05Z");
    }

    #[test]
    fn finds_case_insensitively() {
        assert!(contains_lower("Prod-Search", "search"));
        assert!(contains_lower("Ünïcode", "ünï"));
        assert!(!contains_lower("abc", "abd"));
        assert!(contains_lower("abc", ""));
    }

    #[test]
    fn a_glob_matches_by_stars_and_question_marks() {
        assert!(glob_match("*", "i-0abc"));
        assert!(glob_match("i-0*", "i-0abc"));
        assert!(glob_match("*-staging-*", "acme-staging-3"));
        assert!(glob_match("idx-?bc", "idx-abc"));
        assert!(!glob_match("idx-?bc", "idx-abbc"));
        assert!(!glob_match("i-1*", "i-0abc"));
        assert!(glob_match("exact", "exact") && !glob_match("exact", "exactly"));
        assert!(glob_match("a*b*c", "aXbYc") && !glob_match("a*b*c", "aXcYb"));
    }
}
