//! The data plane's environment variables, read in this one place.

use std::path::PathBuf;

use polo_core::config::{EnvError, env_value};
use polo_core::ports::{LocalPaths, Stores};

/// Where a deployed function's data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsEnv {
    /// `DATA_BUCKET_NAME`: the snapshot, the cost store, sync documents, exports.
    pub bucket: String,
    /// `DYNAMODB_TABLE_NAME`: the resource table (items, history, sync leases).
    pub resource_table: String,
    /// `DYNAMODB_REPORT_TABLE_NAME`: reports and the Cop's findings.
    pub report_table: String,
    /// `DYNAMODB_SESSION_TABLE_NAME`: browser sessions (route functions only).
    pub session_table: Option<String>,
    /// `SYNC_INTERVAL_MINUTES`: how often the sync runs, for "no data yet" pages.
    pub sync_interval_minutes: Option<u32>,
    /// `CORE_ROLE_ARN`: the Cost Explorer role in the payer account (the sync's only).
    pub core_role_arn: Option<String>,
    /// `SLACK_SIGNING_SECRET_ARN`: the Slack app's signing secret (the dashboard's only).
    pub slack_signing_secret_arn: Option<String>,
    /// `SLACK_BOT_TOKEN_SECRET_ARN`: the Slack app's bot token (the dashboard, the Cop and the
    /// reporter).
    pub slack_bot_token_secret_arn: Option<String>,
    /// `SLACK_API_URL`: Slack's Web API, when not Slack's own.
    pub slack_api_url: Option<String>,
}

/// Where a function's data comes from: local files (`POLO_DATA` or `USE_LOCAL_DATA`, for
/// `sam local` and the dev server) or AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataEnv {
    Local(LocalPaths),
    Aws(AwsEnv),
}

/// The bundled sample, served by `USE_LOCAL_DATA` without `POLO_DATA`.
const SAMPLE: &str = "data/sample_data.json";
/// Reports and Cop state when `POLO_STATE` names no folder.
const DEFAULT_STATE: &str = "data/state";
/// Sync documents of a local run.
const DOCUMENTS: &str = "data/sync";

impl AwsEnv {
    /// Reads the data-plane variables through `get` (`std::env::var` in `main`, a map in
    /// tests); a missing or malformed one is an error naming it.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<AwsEnv, EnvError> {
        let need = |name: &'static str| env_value(&get, name).ok_or_else(|| EnvError::required(name));
        let sync_interval_minutes = match env_value(&get, "SYNC_INTERVAL_MINUTES") {
            Some(v) => Some(v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| EnvError {
                variable: "SYNC_INTERVAL_MINUTES",
                problem: format!("expected a whole number of minutes, got {v:?}"),
            })?),
            None => None,
        };
        Ok(AwsEnv {
            bucket: need("DATA_BUCKET_NAME")?,
            resource_table: need("DYNAMODB_TABLE_NAME")?,
            report_table: need("DYNAMODB_REPORT_TABLE_NAME")?,
            session_table: env_value(&get, "DYNAMODB_SESSION_TABLE_NAME"),
            sync_interval_minutes,
            core_role_arn: env_value(&get, "CORE_ROLE_ARN"),
            slack_signing_secret_arn: env_value(&get, "SLACK_SIGNING_SECRET_ARN"),
            slack_bot_token_secret_arn: env_value(&get, "SLACK_BOT_TOKEN_SECRET_ARN"),
            slack_api_url: env_value(&get, "SLACK_API_URL"),
        })
    }
}

impl DataEnv {
    /// Local files when `POLO_DATA` or `USE_LOCAL_DATA` is set (state under `POLO_STATE`,
    /// default `data/state`), else [`AwsEnv::from_lookup`].
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<DataEnv, EnvError> {
        let local =
            env_value(&get, "USE_LOCAL_DATA").is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        match env_value(&get, "POLO_DATA").or_else(|| local.then(|| SAMPLE.to_owned())) {
            Some(data) => Ok(DataEnv::Local(LocalPaths {
                data: PathBuf::from(data),
                state: PathBuf::from(
                    env_value(&get, "POLO_STATE").unwrap_or_else(|| DEFAULT_STATE.to_owned()),
                ),
                documents: PathBuf::from(DOCUMENTS),
            })),
            None => AwsEnv::from_lookup(get).map(DataEnv::Aws).map_err(|e| match e.problem.as_str() {
                "required" => {
                    EnvError { problem: "required unless POLO_DATA or USE_LOCAL_DATA is set".into(), ..e }
                }
                _ => e,
            }),
        }
    }

    /// The stores this environment names.
    pub async fn stores(&self) -> Stores {
        match self {
            DataEnv::Local(paths) => Stores::local(paths),
            DataEnv::Aws(env) => crate::stores(env, &crate::sdk_config().await),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<DataEnv, EnvError> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        DataEnv::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn a_deployed_function_needs_the_bucket_and_both_tables_by_name() {
        let all =
            [("DATA_BUCKET_NAME", "b"), ("DYNAMODB_TABLE_NAME", "t"), ("DYNAMODB_REPORT_TABLE_NAME", "r")];
        let Ok(DataEnv::Aws(env)) = read(&all) else { panic!("{:?}", read(&all)) };
        assert_eq!(
            (env.bucket.as_str(), env.resource_table.as_str(), env.report_table.as_str()),
            ("b", "t", "r")
        );
        for (missing, name) in
            [(0, "DATA_BUCKET_NAME"), (1, "DYNAMODB_TABLE_NAME"), (2, "DYNAMODB_REPORT_TABLE_NAME")]
        {
            let some: Vec<_> =
                all.iter().enumerate().filter(|(i, _)| *i != missing).map(|(_, v)| *v).collect();
            assert_eq!(
                read(&some).unwrap_err().to_string(),
                format!("{name}: required unless POLO_DATA or USE_LOCAL_DATA is set")
            );
        }
    }

    #[test]
    fn local_data_needs_no_aws_and_keeps_state_under_polo_state() {
        let Ok(DataEnv::Local(paths)) = read(&[("USE_LOCAL_DATA", "1")]) else { panic!() };
        assert_eq!((paths.data.to_str(), paths.state.to_str()), (Some(SAMPLE), Some(DEFAULT_STATE)));
        let Ok(DataEnv::Local(paths)) = read(&[("POLO_DATA", "x.json"), ("POLO_STATE", "s")]) else {
            panic!()
        };
        assert_eq!((paths.data.to_str(), paths.state.to_str()), (Some("x.json"), Some("s")));
    }

    #[test]
    fn a_sync_interval_is_a_positive_whole_number() {
        let base =
            [("DATA_BUCKET_NAME", "b"), ("DYNAMODB_TABLE_NAME", "t"), ("DYNAMODB_REPORT_TABLE_NAME", "r")];
        let with = |v: &'static str| read(&[&base[..], &[("SYNC_INTERVAL_MINUTES", v)]].concat());
        assert!(matches!(with("15"), Ok(DataEnv::Aws(AwsEnv { sync_interval_minutes: Some(15), .. }))));
        assert!(
            with("0").unwrap_err().to_string().starts_with("SYNC_INTERVAL_MINUTES: expected a whole number")
        );
    }
}
