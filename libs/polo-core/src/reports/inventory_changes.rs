//! `inventory-changes` (a day): every resource that appeared, vanished, came back or changed
//! state, type, owner or index in the period, from the resource history.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::body::fact;
use super::weekly_summary::change_label;
use super::{ReportBody, ReportInputs, Section, within};
use crate::text::rfc3339;

pub(super) fn build(inputs: &ReportInputs<'_>, bounds: (OffsetDateTime, OffsetDateTime)) -> ReportBody {
    let mut changes: Vec<_> = within(inputs.changes, bounds).collect();
    changes.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut table = Section::new(
        "Changes",
        &[
            ("When", false),
            ("Resource", false),
            ("Kind", false),
            ("Account", false),
            ("Region", false),
            ("Change", false),
        ],
    );
    for c in &changes {
        *counts.entry(change_label(&c.what)).or_default() += 1;
        table.push(vec![
            rfc3339(c.at),
            c.id.clone(),
            c.resource.as_str().to_owned(),
            c.account.clone(),
            c.region.clone(),
            c.what.describe(),
        ]);
    }
    let headline = if changes.is_empty() {
        "No resource appeared, vanished or changed.".to_owned()
    } else {
        let parts: Vec<String> = counts.iter().map(|(label, n)| format!("{n} {label}")).collect();
        format!("{} changes: {}.", changes.len(), parts.join(", "))
    };
    ReportBody {
        headline,
        facts: counts.iter().map(|(label, n)| fact(label, n)).collect(),
        sections: vec![table],
        trend: Vec::new(),
    }
}
