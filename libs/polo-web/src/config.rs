//! A route function's configuration, read from the environment once at cold start.

use std::path::PathBuf;
use std::sync::Arc;

use polo_core::SystemClock;
use polo_core::config::Config;
use polo_core::data::{
    CostReader, DynamoDataService, FindingReader, FleetReader, InMemoryCosts, LocalCostReader,
    LocalDataService, NoFindings, ResourceReader, ResourceTable, S3CostReader, S3SnapshotReader,
    cost_store_path,
};
use polo_core::model::CostStore;
use polo_core::pricing::PriceTable;
use polo_core::store::{ExportStore, S3Exports, SNAPSHOT_KEY, s3_client};

use crate::auth::{Oidc, OidcSettings};
use crate::settings::{DEFAULT_INLINE_CSV_LIMIT, DEFAULT_LOGOUT_URL, WebSettings};
use crate::state::AppState;

/// Everything a route function reads from its environment.
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    pub settings: WebSettings,
    /// `OIDC_ISSUER`, `OIDC_CLIENT_ID`, …: the provider browsers sign in with; without it only
    /// API Gateway authorizer claims (or `ENV=dev`) identify a request.
    pub sign_in: Option<OidcSettings>,
    /// `POLO_CONFIG`: the polo.toml to use instead of the bundled one.
    pub polo_config: Option<PathBuf>,
    /// `POLO_DATA`: a snapshot file to serve instead of S3 and DynamoDB (`USE_LOCAL_DATA`
    /// without it serves the bundled path `data/sample_data.json`).
    pub data_file: Option<PathBuf>,
    /// `DATA_BUCKET_NAME`: where the combined snapshot is (`snapshot.json`).
    pub data_bucket: Option<String>,
    /// `DYNAMODB_TABLE_NAME`: the resource table.
    pub resource_table: Option<String>,
    /// `SYNC_INTERVAL_MINUTES`: how often the scheduled sync runs, for "no data yet" pages.
    pub sync_interval_minutes: Option<u32>,
    /// `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_METRICS_NAMESPACE`.
    pub metrics: crate::metrics::Metrics,
    /// `DYNAMODB_REPORT_TABLE_NAME`: the report table; without it reports are files under
    /// `POLO_STATE` (default `data/state`).
    pub report_table: Option<String>,
    pub state_dir: PathBuf,
    /// `REPORT_TIMEZONE`: overrides `[reports] timezone`.
    pub report_zone: Option<polo_core::calendar::ReportZone>,
}

/// The three readers a route function's state holds.
type Readers = (Arc<dyn FleetReader>, Arc<dyn ResourceReader>, Arc<dyn FindingReader>);

/// How long the URL of a large export works.
pub const EXPORT_URL_LIFETIME: std::time::Duration = std::time::Duration::from_mins(15);

pub use polo_core::store::SNAPSHOT_REVALIDATE;

/// A configuration that cannot start the function: one line naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct EnvError {
    pub variable: &'static str,
    pub problem: String,
}

impl FunctionConfig {
    /// Reads `ENV`, `LOGOUT_URL` (default `/auth/logout`), `OIDC_*`, `PUBLIC_URL`,
    /// `REPORT_TIMEZONE`, `POLO_CONFIG`, `POLO_DATA`, `DATA_BUCKET_NAME` and `DYNAMODB_TABLE_NAME` through `get`
    /// (`std::env::var` in `main`, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<FunctionConfig, EnvError> {
        let logout_url =
            get("LOGOUT_URL").filter(|s| !s.is_empty()).or_else(|| Some(DEFAULT_LOGOUT_URL.to_owned()));
        if let Some(url) = &logout_url
            && !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/'))
        {
            return Err(EnvError { variable: "LOGOUT_URL", problem: format!("expected a URL, got {url:?}") });
        }
        let set = |name: &str| get(name).filter(|s| !s.is_empty());
        let local = set("USE_LOCAL_DATA").is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        let data_file = set("POLO_DATA")
            .map(PathBuf::from)
            .or_else(|| local.then(|| PathBuf::from("data/sample_data.json")));
        let (data_bucket, resource_table) = (set("DATA_BUCKET_NAME"), set("DYNAMODB_TABLE_NAME"));
        if data_file.is_none() {
            if data_bucket.is_none() {
                return Err(EnvError {
                    variable: "DATA_BUCKET_NAME",
                    problem: "required unless POLO_DATA or USE_LOCAL_DATA is set".into(),
                });
            }
            if resource_table.is_none() {
                return Err(EnvError {
                    variable: "DYNAMODB_TABLE_NAME",
                    problem: "required unless POLO_DATA or USE_LOCAL_DATA is set".into(),
                });
            }
        }
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
        let sync_interval_minutes = match set("SYNC_INTERVAL_MINUTES") {
            Some(v) => Some(v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| EnvError {
                variable: "SYNC_INTERVAL_MINUTES",
                problem: format!("expected a whole number of minutes, got {v:?}"),
            })?),
            None => None,
        };
        let inline_csv_limit = match set("CSV_INLINE_MAX_BYTES") {
            Some(v) => v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| EnvError {
                variable: "CSV_INLINE_MAX_BYTES",
                problem: format!("expected a number of bytes, got {v:?}"),
            })?,
            None => DEFAULT_INLINE_CSV_LIMIT,
        };
        let report_zone = match set("REPORT_TIMEZONE") {
            Some(name) => Some(
                polo_core::calendar::ReportZone::parse(&name)
                    .map_err(|e| EnvError { variable: "REPORT_TIMEZONE", problem: e.to_string() })?,
            ),
            None => None,
        };
        Ok(FunctionConfig {
            report_table: set("DYNAMODB_REPORT_TABLE_NAME"),
            state_dir: set("POLO_STATE").map_or_else(|| PathBuf::from("data/state"), PathBuf::from),
            report_zone,
            settings: WebSettings {
                dev,
                logout_url,
                inline_csv_limit: Some(inline_csv_limit),
                data_note: None,
            },
            sign_in,
            sync_interval_minutes,
            polo_config: set("POLO_CONFIG").map(PathBuf::from),
            data_file,
            data_bucket,
            resource_table,
            metrics: crate::metrics::Metrics::from_lookup(&get, "polo"),
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<FunctionConfig, EnvError> {
        FunctionConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the app state: config file, price table, and the data: a local snapshot file,
    /// or in production the S3 snapshot for lists and the resource table for keyed reads.
    pub async fn into_state(&self) -> Result<AppState, anyhow::Error> {
        let config = Config::load(self.polo_config.as_deref())?.with_report_zone(self.report_zone.clone());
        let prices = PriceTable::bundled()?.with_spot_discount(config.costs.spot_discount);
        // Clients are built from the environment without a network call: cheap at cold start.
        let sdk = match &self.data_bucket {
            Some(_) => Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await),
            None => None,
        };
        let exports: Option<Arc<dyn ExportStore>> = match (&sdk, &self.data_bucket) {
            (Some(sdk), Some(bucket)) => {
                Some(Arc::new(S3Exports::new(s3_client(sdk), bucket, EXPORT_URL_LIFETIME)))
            }
            _ => None,
        };
        let (fleet, resources, findings): Readers =
            match (&self.data_file, &self.data_bucket, &self.resource_table, &sdk) {
                (Some(path), _, _, _) => {
                    let data = Arc::new(LocalDataService::on_first_use(path));
                    (data.clone(), data.clone(), data)
                }
                (None, Some(bucket), Some(table), Some(sdk)) => {
                    let hint = match self.sync_interval_minutes {
                        Some(n) => format!("the first sync runs every {n} minutes"),
                        None => "the first sync has not finished".to_owned(),
                    };
                    let fleet =
                        S3SnapshotReader::new(s3_client(sdk), bucket, SNAPSHOT_KEY, SNAPSHOT_REVALIDATE)
                            .with_first_sync_hint(hint);
                    let table = ResourceTable::new(polo_core::store::dynamo_client(sdk), table);
                    // The Cop's findings live in the report table.
                    let findings: Arc<dyn FindingReader> = match &self.report_table {
                        Some(reports) => Arc::new(polo_core::data::FindingTable::new(
                            polo_core::store::dynamo_client(sdk),
                            reports,
                        )),
                        None => Arc::new(NoFindings),
                    };
                    (Arc::new(fleet), Arc::new(DynamoDataService::new(table)), findings)
                }
                _ => anyhow::bail!(
                    "DATA_BUCKET_NAME and DYNAMODB_TABLE_NAME: required unless POLO_DATA is set"
                ),
            };
        let sign_in = match &self.sign_in {
            Some(settings) => Some(Arc::new(Oidc::new(settings.clone())?)),
            None => None,
        };
        let costs: Arc<dyn CostReader> = match (&self.data_file, &sdk, &self.data_bucket) {
            (Some(path), _, _) => Arc::new(LocalCostReader::new(cost_store_path(path))),
            (None, Some(sdk), Some(bucket)) => {
                Arc::new(S3CostReader::new(s3_client(sdk), bucket, SNAPSHOT_REVALIDATE))
            }
            _ => Arc::new(InMemoryCosts(Arc::new(CostStore::empty()))),
        };
        let reports: Arc<dyn polo_core::reports::ReportStore> = match (&sdk, &self.report_table) {
            (Some(sdk), Some(table)) => {
                Arc::new(polo_core::data::ReportTable::new(polo_core::store::dynamo_client(sdk), table))
            }
            _ => Arc::new(polo_core::reports::LocalReports::new(&self.state_dir)),
        };
        Ok(AppState {
            sign_in,
            exports,
            reports,
            costs,
            fleet,
            resources,
            findings,
            prices: Arc::new(prices),
            config: Arc::new(config),
            clock: Arc::new(SystemClock),
            settings: Arc::new(self.settings.clone()),
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
    fn logout_url_defaults_to_the_sign_out_route() {
        let c = read(&[("ENV", "dev"), ("USE_LOCAL_DATA", "1")]).unwrap();
        assert_eq!(c.settings.logout_url.as_deref(), Some("/auth/logout"));
    }

    #[test]
    fn an_unknown_report_timezone_stops_the_start_by_name() {
        let base = [("ENV", "dev"), ("USE_LOCAL_DATA", "1")];
        let zone = |name: &'static str| read(&[&base[..], &[("REPORT_TIMEZONE", name)]].concat());
        assert_eq!(
            zone("Europe/Paris").unwrap().report_zone.map(|z| z.name().to_owned()).as_deref(),
            Some("Europe/Paris")
        );
        let error = zone("Europe/Pariss").unwrap_err().to_string();
        assert!(error.starts_with("REPORT_TIMEZONE: unknown time zone \"Europe/Pariss\""), "{error}");
        assert!(!error.contains('\n'));
    }

    #[test]
    fn sign_in_needs_issuer_and_client_together() {
        let base = [("ENV", "dev"), ("USE_LOCAL_DATA", "1")];
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
    fn production_needs_its_stores() {
        assert!(read(&[("ENV", "dev"), ("USE_LOCAL_DATA", "1")]).unwrap().settings.dev);
        let prod = [
            ("LOGOUT_URL", "https://auth.example.com/logout"),
            ("DATA_BUCKET_NAME", "b"),
            ("DYNAMODB_TABLE_NAME", "t"),
        ];
        let c = read(&prod).unwrap();
        assert!(!c.settings.dev);
        assert_eq!((c.data_bucket.as_deref(), c.resource_table.as_deref()), (Some("b"), Some("t")));
        assert!(read(&[("LOGOUT_URL", "javascript:alert(1)")]).is_err());
        assert_eq!(
            read(&prod[..1]).unwrap_err().to_string(),
            "DATA_BUCKET_NAME: required unless POLO_DATA or USE_LOCAL_DATA is set"
        );
        assert_eq!(
            read(&prod[..2]).unwrap_err().to_string(),
            "DYNAMODB_TABLE_NAME: required unless POLO_DATA or USE_LOCAL_DATA is set"
        );
        assert_eq!(
            read(&[("ENV", "dev"), ("POLO_DATA", "x.json")]).unwrap().data_file.unwrap().to_str(),
            Some("x.json")
        );
    }
}
