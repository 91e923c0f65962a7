//! Block Kit messages kept within Slack's documented limits: at most 50 blocks a message,
//! 150 characters in a header, 3,000 in a section's text, ten fields of 2,000 each; text
//! escaped for Slack's mrkdwn (`&`, `<`, `>`).

use serde::Serialize;
use serde_json::{Value, json};

/// Most blocks one message carries.
pub const MAX_BLOCKS: usize = 50;
/// Most characters of a header's text.
pub const MAX_HEADER: usize = 150;
/// Most characters of a section's text.
pub const MAX_SECTION: usize = 3_000;
/// Most fields of a section, and characters of each.
pub const MAX_FIELDS: usize = 10;
pub const MAX_FIELD: usize = 2_000;

/// One message: a plain-text fallback (notifications, screen readers) and its blocks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Value>,
}

/// `text` with the three characters Slack's mrkdwn reserves escaped.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `text` cut to at most `max` characters, with `…` where it was cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A header block (plain text).
pub fn header(text: &str) -> Value {
    json!({"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER)}})
}

/// A section of mrkdwn text (already escaped where it holds data).
pub fn section(mrkdwn: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(mrkdwn, MAX_SECTION)}})
}

/// A section of plain data shown as mrkdwn: clipped, then escaped (an entity is never cut).
pub fn text_section(text: &str) -> Value {
    section(&escape(&clip(text, MAX_SECTION / 5)))
}

/// A section of up to ten `label: value` fields (the rest left out).
pub fn fields(pairs: &[(String, String)]) -> Value {
    let fields: Vec<Value> = pairs
        .iter()
        .take(MAX_FIELDS)
        .map(|(label, value)| {
            // Clipped before escaping, so an entity (`&amp;`) is never cut in half; escaping
            // at most quintuples a character, so the clip leaves room for it.
            let label = clip(label, 100);
            let value = clip(value, (MAX_FIELD - 110) / 5);
            json!({"type": "mrkdwn", "text": format!("*{}*\n{}", escape(&label), escape(&value))})
        })
        .collect();
    json!({"type": "section", "fields": fields})
}

/// A context line of mrkdwn.
pub fn context(mrkdwn: &str) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(mrkdwn, MAX_SECTION)}]})
}

/// A link in mrkdwn: `<url|label>`, the label escaped.
pub fn link(url: &str, label: &str) -> String {
    format!("<{}|{}>", url.replace('|', "%7C").replace('>', "%3E"), escape(label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_clipped_to_slack_limits() {
        assert_eq!(escape("a <b> & c"), "a &lt;b&gt; &amp; c");
        let long = "x".repeat(200);
        let h = header(&long);
        assert_eq!(h["text"]["text"].as_str().unwrap().chars().count(), MAX_HEADER);
        let pairs: Vec<(String, String)> = (0..12).map(|i| (format!("k{i}"), "<v>".to_owned())).collect();
        let f = fields(&pairs);
        assert_eq!(f["fields"].as_array().unwrap().len(), MAX_FIELDS);
        assert_eq!(f["fields"][0]["text"], "*k0*\n&lt;v&gt;");
        assert_eq!(
            link("https://polo.example.com/r?a=1|2", "a <b>"),
            "<https://polo.example.com/r?a=1%7C2|a &lt;b&gt;>"
        );
    }
}
