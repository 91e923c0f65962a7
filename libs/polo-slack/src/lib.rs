//! Telling Slack: Block Kit messages within Slack's limits ([`blocks`]), an incoming-webhook
//! client ([`webhook`]), and an outbox drained so that nothing is lost or sent twice
//! ([`outbox`]); reports are its first sender ([`report_message`]).

pub mod blocks;
pub mod delivery;
pub mod digest;
pub mod outbox;
pub mod report_message;
pub mod webhook;

pub use blocks::Message;
pub use delivery::Delivery;
pub use outbox::{Drained, Outbox, Pacing, drain};
pub use webhook::{Failure, SlackWebhook};
