//! The Cloud Cop's digest: the findings due a notice, grouped by severity (worst first),
//! then rule, then account, each linked to its resource's page, split into as many messages
//! as Slack's limits need (50 blocks a message, 3,000 characters a section).

use std::fmt::Write as _;

use polo_core::cop::Notice;
use polo_core::model::{Finding, ResourceKind};

use crate::blocks::{self, MAX_BLOCKS, MAX_SECTION, Message};
use crate::interactive;

/// Characters of findings one message carries at most: well under Slack's 40,000 for a
/// message, and a screenful or two to read.
pub const MAX_MESSAGE_TEXT: usize = 12_000;

/// One message of a digest, and the findings it tells of (marked notified once Slack took it).
#[derive(Clone, Debug)]
pub struct DigestPart {
    pub finding_ids: Vec<String>,
    pub message: Message,
}

/// A finding's page under `public_url`.
fn page(finding: &Finding, public_url: &str) -> String {
    let base = public_url.trim_end_matches('/');
    match finding.resource_kind {
        ResourceKind::Instances => format!("{base}/instances/{}", finding.resource_id),
        ResourceKind::Indexes => format!("{base}/indexes/{}", finding.resource_id),
        ResourceKind::Costs => format!("{base}/costs/account/{}", finding.resource_id),
    }
}

/// Open findings Slack hears nothing of: counted in the digest's title, never listed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quiet {
    pub snoozed: usize,
    pub excepted: usize,
}

impl Quiet {
    /// Those of `findings` at `now`.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>, now: time::OffsetDateTime) -> Quiet {
        use polo_core::model::FindingState;
        findings.into_iter().fold(Quiet::default(), |q, f| match f.state(now) {
            FindingState::Snoozed => Quiet { snoozed: q.snoozed + 1, ..q },
            FindingState::Excepted => Quiet { excepted: q.excepted + 1, ..q },
            _ => q,
        })
    }
}

/// The digest of `due` (finding, why it is due), in as many parts as needed; `quiet` is
/// counted in the title. With `buttons`, each new or still-open finding has its own line and
/// its actions ([`interactive::actions`]); resolved ones share lines, as without.
pub fn digest(due: &[(Finding, Notice)], quiet: Quiet, public_url: &str, buttons: bool) -> Vec<DigestPart> {
    let mut items: Vec<&(Finding, Notice)> = due.iter().collect();
    items.sort_by(|(a, _), (b, _)| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.account.cmp(&b.account))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
    });
    let count = |n: Notice| due.iter().filter(|(_, x)| *x == n).count();
    let mut title = format!(
        "Cloud Cop: {} new, {} still open, {} resolved",
        count(Notice::New),
        count(Notice::Reminder),
        count(Notice::Resolved)
    );
    if quiet != Quiet::default() {
        let _ = write!(title, " · {} snoozed, {} excepted", quiet.snoozed, quiet.excepted);
    }
    let mut parts = Parts::default();
    let mut group: Option<(String, String, String)> = None;
    for (finding, notice) in items {
        let key = (finding.severity.as_str().to_owned(), finding.rule.clone(), finding.account.clone());
        let mut line = String::new();
        if group.as_ref() != Some(&key) {
            let _ = writeln!(
                line,
                "*{} · {} · {}*",
                blocks::escape(&key.0),
                blocks::escape(&key.1),
                blocks::escape(&key.2)
            );
            group = Some(key);
        }
        let _ = writeln!(
            line,
            "• {} _{}_: {}",
            blocks::link(&page(finding, public_url), &finding.resource_id),
            notice.as_str(),
            blocks::escape(&blocks::clip(&finding.message, 600))
        );
        if buttons && *notice != Notice::Resolved && finding.id.len() <= interactive::MAX_BLOCK_ID {
            parts.flush_text();
            parts.room(2, line.chars().count());
            parts.blocks.push(blocks::section(&line));
            let acknowledged = finding.handling.acknowledged_by.is_some();
            parts.blocks.push(interactive::actions(&finding.id, acknowledged));
            parts.ids.push(finding.id.clone());
        } else {
            if parts.text.chars().count() + line.chars().count() > MAX_SECTION {
                parts.flush_text();
            }
            if parts.text.is_empty() {
                // The section this text becomes.
                parts.room(1, MAX_SECTION);
            }
            parts.text.push_str(&line);
            parts.text_ids.push(finding.id.clone());
        }
    }
    parts.flush_text();
    parts.end_part();
    let total = parts.done.len();
    for (n, part) in parts.done.iter_mut().enumerate() {
        let heading = if total > 1 { format!("{title} ({} of {total})", n + 1) } else { title.clone() };
        part.message.blocks.insert(0, blocks::header(&heading));
        part.message.blocks.push(blocks::context(&blocks::link(
            &format!("{}/cop", public_url.trim_end_matches('/')),
            "All findings in Polo",
        )));
        part.message.text = blocks::escape(&heading);
    }
    parts.done
}

/// A digest being cut into messages: the parts done, the blocks and findings of the one
/// being filled, and the text of its next section.
#[derive(Default)]
struct Parts {
    done: Vec<DigestPart>,
    blocks: Vec<serde_json::Value>,
    ids: Vec<String>,
    text: String,
    text_ids: Vec<String>,
}

impl Parts {
    /// The text so far becomes a section of the message being filled.
    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            self.blocks.push(blocks::section(&self.text));
            self.ids.append(&mut self.text_ids);
            self.text.clear();
        }
    }

    /// Starts a new message unless this one has room for `blocks` more and `chars` more
    /// characters (beside its header and closing context).
    fn room(&mut self, blocks: usize, chars: usize) {
        let in_message: usize =
            self.blocks.iter().filter_map(|b| b["text"]["text"].as_str()).map(|t| t.chars().count()).sum();
        if self.blocks.len() + blocks > MAX_BLOCKS - 2 || in_message + chars > MAX_MESSAGE_TEXT {
            self.end_part();
        }
    }

    /// The message being filled is done.
    fn end_part(&mut self) {
        if !self.blocks.is_empty() {
            self.done.push(DigestPart {
                finding_ids: std::mem::take(&mut self.ids),
                message: Message { text: String::new(), blocks: std::mem::take(&mut self.blocks) },
            });
        }
    }
}

/// The findings due a notice, as digest messages: the Cop's outbox.
pub struct FindingOutbox<'a> {
    pub store: &'a dyn polo_core::ports::FindingStore,
    /// `[cop] renotify_hours` and `acknowledged_renotify_hours`.
    pub renotify: polo_core::cop::Renotify,
    /// The dashboard's address (`PUBLIC_URL`), for links.
    pub public_url: &'a str,
}

#[async_trait::async_trait]
impl crate::outbox::Outbox for FindingOutbox<'_> {
    type Item = DigestPart;

    async fn pending(
        &self,
        now: time::OffsetDateTime,
        buttons: bool,
    ) -> Result<Vec<DigestPart>, polo_core::ports::DataError> {
        let all = self.store.all().await?;
        let quiet = Quiet::of(&all, now);
        let due: Vec<(Finding, Notice)> = all
            .into_iter()
            .filter_map(|f| polo_core::cop::due(&f, now, &self.renotify).map(|n| (f, n)))
            .collect();
        Ok(if due.is_empty() { Vec::new() } else { digest(&due, quiet, self.public_url, buttons) })
    }

    fn message(&self, part: &DigestPart) -> Message {
        part.message.clone()
    }

    fn describe(&self, part: &DigestPart) -> String {
        format!("a digest of {} findings", part.finding_ids.len())
    }

    async fn mark_sent(
        &self,
        part: &DigestPart,
        at: time::OffsetDateTime,
    ) -> Result<(), polo_core::ports::DataError> {
        self.store.mark_notified(&part.finding_ids, at).await
    }
}

#[cfg(test)]
mod tests {
    use polo_core::model::Severity;
    use time::macros::datetime;

    use super::*;

    fn finding(n: usize) -> Finding {
        let t = datetime!(2026-11-24 12:00 UTC);
        Finding {
            id: format!("owner-missing:instances:i-{n:05}"),
            rule: ["owner-missing", "ttl-expired", "cost-spike"][n % 3].to_owned(),
            severity: [Severity::Info, Severity::Warning, Severity::Critical][n % 3],
            resource_kind: ResourceKind::Instances,
            resource_id: format!("i-{n:05}"),
            account: ["prod", "staging"][n % 2].to_owned(),
            region: "us-east-1".into(),
            message: format!(
                "Instance i-{n:05} <runs> & has no owner tag: tag it with the person or team who owns it, or stop it; ask the prod account's team."
            ),
            first_seen: t,
            last_seen: t,
            last_notified: None,
            resolved_at: None,
            monthly_cost_impact: None,
            handling: polo_core::model::Handling::default(),
        }
    }

    #[test]
    fn three_hundred_findings_make_valid_messages_telling_each_once() {
        let due: Vec<(Finding, Notice)> =
            (0..300).map(|n| (finding(n), if n % 7 == 0 { Notice::Resolved } else { Notice::New })).collect();
        let parts = digest(&due, Quiet::default(), "https://polo.example.com", false);
        assert!(parts.len() > 1, "{} parts", parts.len());
        let mut told: Vec<String> = parts.iter().flat_map(|p| p.finding_ids.clone()).collect();
        told.sort();
        let mut all: Vec<String> = due.iter().map(|(f, _)| f.id.clone()).collect();
        all.sort();
        assert_eq!(told, all, "every finding in exactly one message");
        for part in &parts {
            assert!(part.message.blocks.len() <= MAX_BLOCKS);
            for block in &part.message.blocks {
                if let Some(text) = block["text"]["text"].as_str() {
                    assert!(text.chars().count() <= MAX_SECTION);
                }
            }
            assert!(part.message.text.starts_with("Cloud Cop: 257 new, 0 still open, 43 resolved"));
        }
        let first = parts[0].message.blocks[1]["text"]["text"].as_str().unwrap();
        assert!(first.starts_with("*critical · cost-spike · prod*"), "worst first: {first}");
        assert!(first.contains("<https://polo.example.com/instances/i-00002|i-00002>"));
        assert!(first.contains("&lt;runs&gt; &amp;"));
    }

    #[test]
    fn snoozed_and_excepted_findings_are_counted_apart_never_listed() {
        let now = time::macros::datetime!(2026-11-24 12:00 UTC);
        let mut snoozed = finding(1);
        snoozed.handling.snoozed_until = Some(now + time::Duration::days(1));
        let mut excepted = finding(2);
        excepted.handling.exception =
            Some(polo_core::model::Exception { reason: "known".into(), until: None, by: "alice".into() });
        let all = [finding(0), snoozed, excepted];
        let quiet = Quiet::of(&all, now);
        assert_eq!(quiet, Quiet { snoozed: 1, excepted: 1 });
        let renotify = polo_core::cop::Renotify::of(&polo_core::config::CopSettings::default());
        let due: Vec<(Finding, Notice)> = all
            .iter()
            .filter_map(|f| polo_core::cop::due(f, now, &renotify).map(|n| (f.clone(), n)))
            .collect();
        assert_eq!(due.len(), 1, "only the open one is due");
        let parts = digest(&due, quiet, "https://polo.example.com", false);
        assert_eq!(
            parts[0].message.text,
            "Cloud Cop: 1 new, 0 still open, 0 resolved · 1 snoozed, 1 excepted"
        );
        assert_eq!(parts[0].finding_ids, [all[0].id.clone()]);
    }

    #[test]
    fn with_buttons_each_open_finding_has_its_actions_and_every_message_stays_within_50_blocks() {
        let mut due: Vec<(Finding, Notice)> =
            (0..120).map(|n| (finding(n), if n % 5 == 0 { Notice::Resolved } else { Notice::New })).collect();
        due[1].0.handling.acknowledged_by = Some("ada".into());
        due[1].1 = Notice::Reminder;
        let parts = digest(&due, Quiet::default(), "https://polo.example.com", true);
        let mut told: Vec<String> = parts.iter().flat_map(|p| p.finding_ids.clone()).collect();
        told.sort();
        let mut all: Vec<String> = due.iter().map(|(f, _)| f.id.clone()).collect();
        all.sort();
        assert_eq!(told, all, "every finding in exactly one message");
        let mut with_actions = Vec::new();
        for part in &parts {
            assert!(part.message.blocks.len() <= MAX_BLOCKS, "{} blocks", part.message.blocks.len());
            for block in part.message.blocks.iter().filter(|b| b["type"] == "actions") {
                let id = block["block_id"].as_str().unwrap().to_owned();
                assert!(part.finding_ids.contains(&id), "{id} is told in the message with its buttons");
                let actions: Vec<&str> = block["elements"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["action_id"].as_str().unwrap())
                    .collect();
                let first = if id == due[1].0.id { "reopen" } else { "ack" };
                assert_eq!(actions, [first, "snooze", "except", "assign"]);
                with_actions.push(id);
            }
        }
        with_actions.sort();
        let mut open: Vec<String> =
            due.iter().filter(|(_, n)| *n != Notice::Resolved).map(|(f, _)| f.id.clone()).collect();
        open.sort();
        assert_eq!(with_actions, open, "open findings have buttons, resolved ones none");
        assert!(parts.len() >= 96 / 24, "{} parts", parts.len());
    }
}
