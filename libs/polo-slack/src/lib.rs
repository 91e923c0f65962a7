//! Telling Slack: Block Kit messages within Slack's limits ([`blocks`]), an incoming-webhook
//! client ([`webhook`]), the Web API as the app's bot ([`api`]), an outbox drained so that
//! nothing is lost or sent twice ([`outbox`]) to a webhook or a channel ([`delivery`]), and
//! the app's interactivity, verified ([`interactive`]); reports and the Cop's digest are its
//! senders ([`report_message`], [`digest`]).

pub mod api;
pub mod blocks;
pub mod delivery;
pub mod digest;
pub mod interactive;
pub mod outbox;
pub mod report_message;
pub mod webhook;

pub use api::SlackApi;
pub use blocks::Message;
pub use delivery::{Delivery, Destination};
pub use outbox::{Drained, Outbox, Pacing, drain};
pub use webhook::{Failure, SlackWebhook};
