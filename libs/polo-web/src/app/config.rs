//! A route function's configuration, read from the environment once at cold start.

use std::sync::Arc;

use polo_core::SystemClock;
use polo_core::config::{Config, EnvError, env_value};
use polo_core::ports::Stores;

use crate::app::settings::{DEFAULT_INLINE_CSV_LIMIT, DEFAULT_LOGOUT_URL, WebSettings};
use crate::app::state::AppState;
use crate::auth::{Oidc, OidcSettings};

/// Everything a route function reads from its environment besides where its data is
/// (`polo_aws::DataEnv`).
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    pub settings: WebSettings,
    /// `OIDC_ISSUER`, `OIDC_CLIENT_ID`, `PUBLIC_URL`, …: the provider browsers sign in with
    /// (always set: a function without it does not start).
    pub sign_in: Option<OidcSettings>,
    /// `POLO_CONFIG` and `REPORT_TIMEZONE` ([`Config::from_lookup`]).
    pub config: Config,
    /// `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_METRICS_NAMESPACE`.
    pub metrics: crate::app::metrics::Metrics,
}

impl FunctionConfig {
    /// Reads `LOGOUT_URL` (default `/auth/logout`), `OIDC_*`, `PUBLIC_URL`,
    /// `CSV_INLINE_MAX_BYTES`, `POLO_CONFIG` and `REPORT_TIMEZONE` through `get`
    /// (`std::env::var` in `main`, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<FunctionConfig, EnvError> {
        let logout_url = env_value(&get, "LOGOUT_URL").or_else(|| Some(DEFAULT_LOGOUT_URL.to_owned()));
        if let Some(url) = &logout_url
            && !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/'))
        {
            return Err(EnvError { variable: "LOGOUT_URL", problem: format!("expected a URL, got {url:?}") });
        }
        let set = |name: &str| env_value(&get, name);
        // A deployed function always signs people in: without an issuer it refuses to start
        // (only `polo serve` has a local user, and it does not read this).
        let need = |variable: &'static str| set(variable).ok_or_else(|| EnvError::required(variable));
        let url_var = |variable: &'static str, value: Option<String>| -> Result<Option<String>, EnvError> {
            match value {
                Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) => {
                    Err(EnvError { variable, problem: format!("expected an http(s) URL, got {u:?}") })
                }
                other => Ok(other),
            }
        };
        let issuer = url_var("OIDC_ISSUER", Some(need("OIDC_ISSUER")?))?.unwrap_or_default();
        let sign_in = Some(OidcSettings {
            issuer,
            client_id: need("OIDC_CLIENT_ID")?,
            client_secret: set("OIDC_CLIENT_SECRET"),
            logout_endpoint: url_var("OIDC_LOGOUT_ENDPOINT", set("OIDC_LOGOUT_ENDPOINT"))?,
            public_url: url_var("PUBLIC_URL", Some(need("PUBLIC_URL")?))?.unwrap_or_default(),
        });
        let inline_csv_limit = match set("CSV_INLINE_MAX_BYTES") {
            Some(v) => v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| EnvError {
                variable: "CSV_INLINE_MAX_BYTES",
                problem: format!("expected a number of bytes, got {v:?}"),
            })?,
            None => DEFAULT_INLINE_CSV_LIMIT,
        };
        Ok(FunctionConfig {
            config: Config::from_lookup(&get)?,
            settings: WebSettings {
                dev: false,
                logout_url,
                inline_csv_limit: Some(inline_csv_limit),
                data_note: None,
            },
            sign_in,
            metrics: crate::app::metrics::Metrics::from_lookup(&get, "polo"),
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<FunctionConfig, EnvError> {
        FunctionConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// The app state over `stores`: config file, price table, sign-in.
    pub fn into_state(&self, stores: Stores) -> Result<AppState, anyhow::Error> {
        let config = self.config.clone();
        let sign_in = match &self.sign_in {
            Some(settings) => Some(Arc::new(Oidc::new(settings.clone())?)),
            None => None,
        };
        if sign_in.is_some() && stores.sessions.is_none() {
            anyhow::bail!("DYNAMODB_SESSION_TABLE_NAME: required: sign-in keeps its sessions there");
        }
        let mut state = AppState::new(stores, config, Arc::new(SystemClock), self.settings.clone())?;
        state.sign_in = sign_in;
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SIGN_IN: [(&str, &str); 3] = [
        ("OIDC_ISSUER", "https://id.example.com"),
        ("OIDC_CLIENT_ID", "c"),
        ("PUBLIC_URL", "https://polo.example.com"),
    ];

    fn read(vars: &[(&str, &str)]) -> Result<FunctionConfig, EnvError> {
        let map: HashMap<String, String> =
            SIGN_IN.iter().chain(vars).map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        FunctionConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn logout_url_defaults_to_the_sign_out_route() {
        let c = read(&[]).unwrap();
        assert_eq!(c.settings.logout_url.as_deref(), Some("/auth/logout"));
    }

    #[test]
    fn an_unknown_report_timezone_stops_the_start_by_name() {
        let zone = |name: &'static str| read(&[("REPORT_TIMEZONE", name)]);
        assert_eq!(zone("Europe/Paris").unwrap().config.reports.timezone.name(), "Europe/Paris");
        let error = zone("Europe/Pariss").unwrap_err().to_string();
        assert!(error.starts_with("REPORT_TIMEZONE: unknown time zone \"Europe/Pariss\""), "{error}");
        assert!(!error.contains('\n'));
    }

    #[test]
    fn a_function_without_an_issuer_refuses_to_start_naming_what_is_missing() {
        for (missing, _) in SIGN_IN {
            let map: HashMap<String, String> = SIGN_IN
                .iter()
                .filter(|(k, _)| *k != missing)
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .chain([("ENV".to_owned(), "dev".to_owned())])
                .collect();
            let error = FunctionConfig::from_lookup(|k| map.get(k).cloned()).unwrap_err().to_string();
            assert_eq!(error, format!("{missing}: required"), "ENV=dev opens nothing");
        }
        assert!(read(&[("OIDC_ISSUER", "id.example.com")]).is_err());
        assert!(read(&[("PUBLIC_URL", "polo.example.com")]).is_err());
        let c = read(&[("ENV", "dev")]).unwrap();
        assert!(!c.settings.dev, "no deployed function has a local user");
        assert_eq!(c.sign_in.unwrap().public_url, "https://polo.example.com");
    }

    #[test]
    fn a_logout_url_must_be_a_url_or_a_path() {
        let c = read(&[("LOGOUT_URL", "https://auth.example.com/logout")]).unwrap();
        assert_eq!(c.settings.logout_url.as_deref(), Some("https://auth.example.com/logout"));
        assert_eq!(
            read(&[("LOGOUT_URL", "javascript:alert(1)")]).unwrap_err().to_string(),
            "LOGOUT_URL: expected a URL, got \"javascript:alert(1)\""
        );
    }
}
