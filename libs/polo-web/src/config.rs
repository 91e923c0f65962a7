//! A route function's configuration, read from the environment once at cold start.

use std::path::PathBuf;
use std::sync::Arc;

use polo_core::SystemClock;
use polo_core::config::Config;
use polo_core::data::LocalDataService;
use polo_core::pricing::PriceTable;

use crate::settings::WebSettings;
use crate::state::AppState;

/// Everything a route function reads from its environment.
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    pub settings: WebSettings,
    /// `POLO_CONFIG`: the polo.toml to use instead of the bundled one.
    pub polo_config: Option<PathBuf>,
    /// `POLO_DATA`: the snapshot file to serve.
    pub data_file: Option<PathBuf>,
}

/// A configuration that cannot start the function: one line naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct EnvError {
    pub variable: &'static str,
    pub problem: String,
}

impl FunctionConfig {
    /// Reads `ENV`, `LOGOUT_URL`, `POLO_CONFIG` and `POLO_DATA` through `get`
    /// (`std::env::var` in `main`, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<FunctionConfig, EnvError> {
        let env = get("ENV").unwrap_or_default();
        let dev = env == "dev";
        let logout_url = get("LOGOUT_URL").filter(|s| !s.is_empty());
        if !dev && logout_url.is_none() {
            return Err(EnvError { variable: "LOGOUT_URL", problem: "required unless ENV=dev".into() });
        }
        if let Some(url) = &logout_url
            && !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/'))
        {
            return Err(EnvError { variable: "LOGOUT_URL", problem: format!("expected a URL, got {url:?}") });
        }
        Ok(FunctionConfig {
            settings: WebSettings { dev, logout_url },
            polo_config: get("POLO_CONFIG").filter(|s| !s.is_empty()).map(PathBuf::from),
            data_file: get("POLO_DATA").filter(|s| !s.is_empty()).map(PathBuf::from),
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<FunctionConfig, EnvError> {
        FunctionConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the app state: config file, price table and the snapshot named by `POLO_DATA`.
    pub fn into_state(self) -> Result<AppState, anyhow::Error> {
        let config = Config::load(self.polo_config.as_deref())?;
        let prices = PriceTable::bundled()?;
        let Some(path) = &self.data_file else {
            anyhow::bail!("POLO_DATA: required: the snapshot file this function serves");
        };
        let data = Arc::new(LocalDataService::from_file(path)?);
        Ok(AppState {
            fleet: data.clone(),
            resources: data,
            prices: Arc::new(prices),
            config: Arc::new(config),
            clock: Arc::new(SystemClock),
            settings: Arc::new(self.settings),
        })
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
    fn production_needs_a_logout_url() {
        assert_eq!(read(&[]).unwrap_err().to_string(), "LOGOUT_URL: required unless ENV=dev");
        assert!(read(&[("ENV", "dev")]).unwrap().settings.dev);
        let c = read(&[("LOGOUT_URL", "https://auth.example.com/logout")]).unwrap();
        assert!(!c.settings.dev);
        assert!(read(&[("LOGOUT_URL", "javascript:alert(1)")]).is_err());
    }
}
