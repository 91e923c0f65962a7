//! The app a route function serves: its configuration from the environment, its state over
//! the stores, its settings, who is asking (identity), and its metrics.

pub(crate) mod config;
pub(crate) mod identity;
pub(crate) mod metrics;
pub(crate) mod settings;
pub(crate) mod state;

pub use config::FunctionConfig;
pub use identity::CurrentUser;
pub use metrics::Metrics;
pub use settings::{DEFAULT_LOGOUT_URL, WebSettings};
pub use state::{AppState, SlackState};
