//! `ttl-expired`: an instance still there past the date or instant of its expiry tag
//! (`tags.expiry`: RFC 3339, or a date, which lasts to its end in UTC); an expiry that
//! cannot be read is itself a finding.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::cop::{Candidate, Rule, RuleContext, RuleSettings, owner_of};
use crate::model::{InstanceState, Severity};

pub struct TtlExpired;

/// When an expiry tag value expires: an instant, or the end of a date (UTC).
pub fn expiry(value: &str) -> Option<OffsetDateTime> {
    let value = value.trim();
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return Some(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(value, &format).ok().and_then(Date::next_day).map(|d| d.midnight().assume_utc())
}

impl Rule for TtlExpired {
    fn id(&self) -> &'static str {
        "ttl-expired"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warning
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, _settings: RuleSettings<'_>) -> Vec<Candidate> {
        let mut found = Vec::new();
        for i in ctx.fleet.instances() {
            if matches!(i.state, InstanceState::Terminated | InstanceState::ShuttingDown) {
                continue;
            }
            for key in &ctx.config.tags.expiry {
                let Some(value) = i.tags.get(key.as_str()) else { continue };
                let who = owner_of(i.owner.as_deref(), &i.account);
                let message = match expiry(value) {
                    Some(at) if at <= ctx.now => format!(
                        "{} expired at {} (`{key}` tag) and is still {}: terminate it, or move the tag if it is still needed; {who}.",
                        super::shown(i),
                        crate::text::rfc3339(at),
                        i.state.as_str()
                    ),
                    Some(_) => continue,
                    None => format!(
                        "{} has a `{key}` tag Polo cannot read ({value:?}): write an RFC 3339 instant or a date (2026-03-08); {who}.",
                        super::shown(i)
                    ),
                };
                found.push(super::about_instance(self.id(), i, message));
                break;
            }
        }
        found
    }
}
