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
    /// `OIDC_ISSUER`, `OIDC_CLIENT_ID`, …: the provider browsers sign in with; without it only
    /// API Gateway authorizer claims (or `ENV=dev`) identify a request.
    pub sign_in: Option<OidcSettings>,
    /// `POLO_CONFIG` and `REPORT_TIMEZONE` ([`Config::from_lookup`]).
    pub config: Config,
    /// `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_METRICS_NAMESPACE`.
    pub metrics: crate::app::metrics::Metrics,
}

impl FunctionConfig {
    /// Reads `ENV`, `LOGOUT_URL` (default `/auth/logout`), `OIDC_*`, `PUBLIC_URL`,
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
        let sign_in = match (set("OIDC_ISSUER"), set("OIDC_CLIENT_ID")) {
            (Some(issuer), Some(client_id)) => {
                let url_var = |variable: &'static str| -> Result<Option<String>, EnvError> {
                    match set(variable) {
                        Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) => {
                            Err(EnvError { variable, problem: format!("expected an http(s) URL, got {u:?}") })
                        }
                        other => Ok(other),
                    }
                };
                url_var("OIDC_ISSUER")?;
                Some(OidcSettings {
                    issuer,
                    client_id,
                    client_secret: set("OIDC_CLIENT_SECRET"),
                    logout_endpoint: url_var("OIDC_LOGOUT_ENDPOINT")?,
                    public_url: url_var("PUBLIC_URL")?,
                })
            }
            (Some(_), None) => {
                return Err(EnvError {
                    variable: "OIDC_CLIENT_ID",
                    problem: "required with OIDC_ISSUER".into(),
                });
            }
            (None, Some(_)) => {
                return Err(EnvError {
                    variable: "OIDC_ISSUER",
                    problem: "required with OIDC_CLIENT_ID".into(),
                });
            }
            (None, None) => None,
        };
        // `ENV=dev` stands in for sign-in only where none is configured (the local server):
        // a deployed environment named dev has an issuer and still signs people in.
        let dev = get("ENV").is_some_and(|env| env == "dev") && sign_in.is_none();
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
                dev,
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
        let mut state = AppState::new(stores, config, Arc::new(SystemClock), self.settings.clone())?;
        state.sign_in = sign_in;
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<FunctionConfig, EnvError> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        FunctionConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn logout_url_defaults_to_the_sign_out_route() {
        let c = read(&[("ENV", "dev")]).unwrap();
        assert_eq!(c.settings.logout_url.as_deref(), Some("/auth/logout"));
    }

    #[test]
    fn an_unknown_report_timezone_stops_the_start_by_name() {
        let base = [("ENV", "dev")];
        let zone = |name: &'static str| read(&[&base[..], &[("REPORT_TIMEZONE", name)]].concat());
        assert_eq!(zone("Europe/Paris").unwrap().config.reports.timezone.name(), "Europe/Paris");
        let error = zone("Europe/Pariss").unwrap_err().to_string();
        assert!(error.starts_with("REPORT_TIMEZONE: unknown time zone \"Europe/Pariss\""), "{error}");
        assert!(!error.contains('\n'));
    }

    #[test]
    fn sign_in_needs_issuer_and_client_together() {
        let base = [("ENV", "dev")];
        let with = |extra: &[(&'static str, &'static str)]| read(&[&base[..], extra].concat());
        assert!(with(&[]).unwrap().sign_in.is_none());
        assert_eq!(
            with(&[("OIDC_ISSUER", "https://id.example.com")]).unwrap_err().to_string(),
            "OIDC_CLIENT_ID: required with OIDC_ISSUER"
        );
        assert_eq!(
            with(&[("OIDC_CLIENT_ID", "c")]).unwrap_err().to_string(),
            "OIDC_ISSUER: required with OIDC_CLIENT_ID"
        );
        assert!(with(&[("OIDC_ISSUER", "id.example.com"), ("OIDC_CLIENT_ID", "c")]).is_err());
        let c = with(&[("OIDC_ISSUER", "https://id.example.com"), ("OIDC_CLIENT_ID", "c")]).unwrap();
        assert_eq!(c.sign_in.unwrap().client_id, "c");
    }

    #[test]
    fn a_deployed_dev_environment_still_signs_people_in() {
        let deployed = [
            ("ENV", "dev"),
            ("DATA_BUCKET_NAME", "b"),
            ("DYNAMODB_TABLE_NAME", "t"),
            ("OIDC_ISSUER", "https://cognito-idp.us-east-1.amazonaws.com/pool"),
            ("OIDC_CLIENT_ID", "client"),
        ];
        let c = read(&deployed).unwrap();
        assert!(!c.settings.dev, "ENV=dev with an issuer must not stand in for sign-in");
        assert!(c.sign_in.is_some());
        assert!(read(&deployed[..3]).unwrap().settings.dev, "without an issuer, ENV=dev is the local server");
    }

    #[test]
    fn a_logout_url_must_be_a_url_or_a_path() {
        assert!(read(&[("ENV", "dev")]).unwrap().settings.dev);
        let c = read(&[("LOGOUT_URL", "https://auth.example.com/logout")]).unwrap();
        assert!(!c.settings.dev);
        assert_eq!(
            read(&[("LOGOUT_URL", "javascript:alert(1)")]).unwrap_err().to_string(),
            "LOGOUT_URL: expected a URL, got \"javascript:alert(1)\""
        );
    }
}
