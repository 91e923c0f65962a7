//! The command line: parsing and dispatch.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use polo_core::calendar::ReportZone;
use polo_core::config::Config;
use polo_core::ports::Stores;
use polo_core::reports::ReportType;
use polo_core::sample::{Scale, generate_all};
use polo_core::{Clock, FixedClock, SystemClock};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Polo: what runs in the AWS accounts, what it costs, what changed, what is wrong.
#[derive(Debug, Parser)]
#[command(name = "polo", version, about)]
pub struct Cli {
    /// The instant to act at (RFC 3339); default: the system clock.
    #[arg(long, global = true, value_parser = parse_now)]
    pub now: Option<OffsetDateTime>,
    /// The polo.toml to use; default: POLO_CONFIG, ./polo.toml, the bundled one.
    #[arg(long, global = true, env = "POLO_CONFIG")]
    pub config: Option<PathBuf>,
    /// The IANA time zone of months, days and report periods; default: `[reports]
    /// timezone` in polo.toml.
    #[arg(long, global = true, env = "REPORT_TIMEZONE", value_parser = parse_zone)]
    pub timezone: Option<ReportZone>,
    /// Where reports and Cop state are kept locally; default: data/state (data/state/sample
    /// for the bundled sample).
    #[arg(long, global = true, env = "POLO_STATE")]
    pub state: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve every route of every function on one local server (the local user, an operator, or
    /// sign-in at an OpenID provider with --oidc-issuer and --oidc-client-id).
    Serve {
        #[arg(long, default_value_t = 2200)]
        port: u16,
        /// The address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// A host name (besides loopback and IP addresses) the server answers to, as the
        /// browser sends it in `Host`; repeat it for several. Other names get 421, so a web
        /// page cannot rebind a name of its own to this server.
        #[arg(long = "allowed-host", env = "POLO_ALLOWED_HOSTS", value_delimiter = ',')]
        allowed_hosts: Vec<String>,
        /// The snapshot; default: POLO_DATA, ./local_data.json, the bundled sample.
        #[arg(long, env = "POLO_DATA")]
        data: Option<PathBuf>,
        /// Sign people in at this OpenID issuer instead of the dev identity.
        #[arg(long, env = "OIDC_ISSUER", requires = "oidc_client_id")]
        oidc_issuer: Option<String>,
        /// The client id registered at the issuer.
        #[arg(long, env = "OIDC_CLIENT_ID", requires = "oidc_issuer")]
        oidc_client_id: Option<String>,
        /// Slack's signing secret: `/slack/interactions` takes the app's button presses.
        #[arg(long, env = "SLACK_SIGNING_SECRET", hide_env_values = true)]
        slack_signing_secret: Option<String>,
        #[command(flatten)]
        bot: SlackBotArgs,
    },
    /// Write a deterministic sample snapshot.
    Sample {
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, value_enum, default_value_t = SampleScale::Small)]
        scale: SampleScale,
        /// Where to write it; default: standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Read a snapshot in either layout (JSON, or the binary one the sync writes for route
    /// functions): what it holds, the snapshot itself as JSON, or a copy in the binary layout.
    Snapshot {
        /// The snapshot; default: POLO_DATA, ./local_data.json, the bundled sample.
        #[arg(long, env = "POLO_DATA")]
        data: Option<PathBuf>,
        /// Print it as JSON (for people and scripts), whichever layout the file has.
        #[arg(long, conflicts_with = "binary")]
        json: bool,
        /// Write it in the binary layout to this file.
        #[arg(long, value_name = "FILE")]
        binary: Option<PathBuf>,
    },
    /// Pull the fleet: one document per resource/account/region, then combine.
    Sync {
        /// Only this resource.
        #[arg(short = 'r', long = "resource", value_enum)]
        resource: Option<SyncResource>,
        /// Only these accounts (by configured name), comma-separated.
        #[arg(short = 'p', long = "profiles", value_delimiter = ',')]
        accounts: Vec<String>,
        /// Where the sync documents go.
        #[arg(long, default_value = "data/sync")]
        out: PathBuf,
        /// The snapshot to write; default: POLO_DATA or ./local_data.json.
        #[arg(long, env = "POLO_DATA")]
        data: Option<PathBuf>,
        /// Pulls in flight at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Merge the sync documents into the snapshot.
    Combine {
        #[arg(long, default_value = "data/sync")]
        out: PathBuf,
        #[arg(long, env = "POLO_DATA")]
        data: Option<PathBuf>,
    },
    /// Build one report (the last complete period unless --period), store it under POLO_STATE.
    Report {
        /// daily-cost, weekly-summary, monthly-close, inventory-changes or idle-resources.
        #[arg(value_parser = parse_report_type)]
        kind: ReportType,
        /// 2026-03-08 (a day), 2026-W10 (an ISO week) or 2026-03 (a month), by type.
        #[arg(long)]
        period: Option<String>,
        /// Print the report; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// The snapshot; default: POLO_DATA, ./local_data.json, the bundled sample.
        #[arg(long, env = "POLO_DATA")]
        data: Option<PathBuf>,
        #[command(flatten)]
        slack: SlackArgs,
    },
    /// Run the Cloud Cop once: rules over the snapshot and its costs, findings kept under
    /// POLO_STATE, the digest sent to Slack.
    Cop {
        /// Print the findings and the digest; change no state.
        #[arg(long)]
        dry_run: bool,
        /// The snapshot; default: POLO_DATA, ./local_data.json, the bundled sample.
        #[arg(long, env = "POLO_DATA")]
        data: Option<PathBuf>,
        #[command(flatten)]
        slack: SlackArgs,
    },
    /// Refresh the price table from the AWS Price List API (any account's credentials).
    Prices {
        /// Regions to price, comma-separated; default: every region of the configured accounts.
        #[arg(long, value_delimiter = ',')]
        regions: Vec<String>,
        /// Where to write the table.
        #[arg(long, default_value = "data/prices.json")]
        out: PathBuf,
    },
    /// Upgrade a deployed resource table once, after the deploy that added the `by-day`
    /// index is ACTIVE: history gets its day keys, vanished resources their TTL (the only Scan
    /// of the table, by hand; docs/data.md). AWS credentials as for `sync`.
    TableUpgrade {
        /// The resource table's name (the stack's `ResourceTable` output).
        #[arg(long)]
        table: String,
        /// Count what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// List or revoke browser sessions: a deployment's (`--table`, AWS credentials as for
    /// `sync`) or `polo serve`'s (its state folder). A revoked session is refused on its next
    /// request.
    Sessions {
        #[command(subcommand)]
        action: SessionAction,
        /// The session table (the stack's `SessionTable` output); default: `polo serve`'s.
        #[arg(long, global = true)]
        table: Option<String>,
    },
    /// Print every function, what it is and needs, and its routes: what the CDK app builds.
    Manifest {
        /// As JSON (what the CDK app reads: `cdk/manifest.json`).
        #[arg(long)]
        json: bool,
    },
}

/// What `polo sessions` does.
#[derive(Debug, Subcommand)]
pub enum SessionAction {
    /// Every live session, newest first (`--user` for one person's).
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// Ends sessions: one person's (`--user`), one (`--id`, at least 8 characters of the id
    /// `list` shows), or every one (`--all`).
    Revoke {
        #[arg(long, conflicts_with_all = ["id", "all"])]
        user: Option<String>,
        #[arg(long, conflicts_with = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

/// The Slack app's bot.
#[derive(Debug, Args)]
pub struct SlackBotArgs {
    /// The Slack app's bot token: digests go to `[slack] channel` with buttons, and a pressed
    /// button's message is updated to say what was done.
    #[arg(long, env = "SLACK_BOT_TOKEN", hide_env_values = true)]
    pub slack_bot_token: Option<String>,
    /// Slack's Web API, when not Slack's own (a stand-in Slack).
    #[arg(long, env = "SLACK_API_URL", hide = true)]
    pub slack_api_url: Option<String>,
}

impl SlackBotArgs {
    /// The bot's token and API, with `signing_secret` when given.
    fn app(&self, signing_secret: Option<&str>) -> polo_core::ports::SlackApp {
        let fixed = |name: &str, value: Option<&str>| {
            value.filter(|v| !v.is_empty()).map(|v| {
                std::sync::Arc::new(polo_core::ports::FixedSecret::new(name, Some(v.to_owned())))
                    as std::sync::Arc<dyn polo_core::ports::SecretSource>
            })
        };
        polo_core::ports::SlackApp {
            signing_secret: fixed("SLACK_SIGNING_SECRET", signing_secret),
            bot_token: fixed("SLACK_BOT_TOKEN", self.slack_bot_token.as_deref()),
            api_url: self.slack_api_url.clone().filter(|u| !u.is_empty()),
        }
    }
}

/// Where `report` and `cop` tell Slack.
#[derive(Debug, Args)]
pub struct SlackArgs {
    /// Sends what Slack has not had yet to this incoming webhook.
    #[arg(long, env = "SLACK_WEBHOOK_URL", hide_env_values = true)]
    pub slack_webhook_url: Option<String>,
    /// The dashboard's address, for links in Slack.
    #[arg(long, env = "PUBLIC_URL", default_value = "http://127.0.0.1:2200")]
    pub public_url: String,
    #[command(flatten)]
    bot: SlackBotArgs,
}

impl SlackArgs {
    /// The webhook, or with a bot token the app's bot posting to `[slack] channel`.
    fn delivery(&self, config: &Config) -> anyhow::Result<polo_slack::Delivery> {
        Ok(polo_slack::Delivery::new(self.slack_webhook_url.as_deref(), self.public_url.clone())?
            .with_app(&self.bot.app(None), &config.slack))
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SyncResource {
    Instances,
    Indexes,
    Costs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SampleScale {
    /// A few hundred instances (the committed sample).
    Small,
    /// 10,000 instances, 1,000 indexes, 3 accounts × 4 regions.
    Large,
    /// 100,000 instances, 10,000 indexes, 100 accounts in up to 20 regions.
    Huge,
}

fn parse_now(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("expected an RFC 3339 instant like 2026-03-08T12:00:00Z ({e})"))
}

fn parse_report_type(text: &str) -> Result<ReportType, String> {
    ReportType::parse(text).map_err(|e| e.to_string())
}

fn parse_zone(text: &str) -> Result<ReportZone, String> {
    ReportZone::parse(text).map_err(|e| e.to_string())
}

impl Cli {
    /// The configuration, with `--timezone` applied.
    fn load_config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(self.config.as_deref())?.with_report_zone(self.timezone.clone()))
    }

    fn clock(&self) -> Arc<dyn Clock> {
        match self.now {
            Some(now) => Arc::new(FixedClock(now)),
            None => Arc::new(SystemClock),
        }
    }
}

/// `bytes` in megabytes, for people.
#[allow(clippy::cast_precision_loss)] // a file's size, far below 2^52
fn bytes_mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let clock = cli.clock();
    match &cli.command {
        Command::Serve {
            port,
            host,
            allowed_hosts,
            data,
            oidc_issuer,
            oidc_client_id,
            slack_signing_secret,
            bot,
        } => {
            let config = cli.load_config()?;
            let path = crate::serve::snapshot_path(data.as_deref());
            tracing::info!(data = %path.display(), "serving snapshot");
            let addr = SocketAddr::new(*host, *port);
            let paths = crate::serve::local_paths(cli.state.as_deref(), &path);
            let stores = Stores::local(&paths);
            let mut state =
                crate::serve::dev_state(config, stores.clone(), &path, clock, cli.now.is_some()).await?;
            let now = state.clock.now();
            let state_dir = &paths.state;
            match crate::serve::prepare(&state.config, &stores, &paths, now).await {
                Ok(done) => tracing::info!(
                    state = %state_dir.display(),
                    cop = %done.cop_open.map_or_else(|| "judged this snapshot already".to_owned(), |n| format!("{n} open findings")),
                    reports = %if done.reports.is_empty() { "latest periods stored already".to_owned() } else { done.reports.join(", ") },
                    took_ms = done.took.as_millis(),
                    "prepared the snapshot's findings and reports"
                ),
                // The pages still serve the inventory; the line says what is missing and why.
                Err(e) => {
                    tracing::warn!(state = %state_dir.display(), "could not prepare findings and reports: {e:#}");
                }
            }
            if let (Some(issuer), Some(client_id)) = (oidc_issuer, oidc_client_id) {
                state = crate::serve::with_sign_in(state, issuer, client_id, addr)?;
            }
            let state = state.with_slack(bot.app(slack_signing_secret.as_deref()));
            crate::serve::run(state, addr, allowed_hosts.clone()).await
        }
        Command::Sample { seed, scale, out } => {
            let scale = match scale {
                SampleScale::Small => Scale::Small,
                SampleScale::Large => Scale::Large,
                SampleScale::Huge => Scale::Huge,
            };
            let progress = crate::progress::Progress::spinner("sample");
            progress.stage("generating");
            let polo_core::sample::Generated { everything, costs, usage, metrics } =
                generate_all(*seed, scale, clock.now());
            progress.stage("writing");
            let json = serde_json::to_string_pretty(&everything)?;
            let written = match out {
                None => {
                    println!("{json}");
                    "stdout (the cost store, usage ledger and metrics are written only with --out, beside the snapshot)"
                        .to_owned()
                }
                Some(path) => {
                    write_atomically(path, json.as_bytes())?;
                    // One line per dimension key keeps the file diffable and compact.
                    write_atomically(&polo_core::ports::cost_store_path(path), &serde_json::to_vec(&costs)?)?;
                    let usage_path = polo_core::ports::document_path::<polo_core::model::UsageLedger>(path);
                    write_atomically(&usage_path, &serde_json::to_vec(&usage)?)?;
                    let metrics_path =
                        polo_core::ports::document_path::<polo_core::model::MetricsDocument>(path);
                    write_atomically(&metrics_path, &serde_json::to_vec(&metrics)?)?;
                    format!(
                        "{} ({:.1} MB), its cost store, usage ledger and metrics",
                        path.display(),
                        bytes_mb(json.len())
                    )
                }
            };
            progress.finish(&format!(
                "sample: {} instances, {} indexes, {} accounts, {} days of costs into {written}",
                crate::progress::thousands(everything.instances.len()),
                crate::progress::thousands(everything.indexes.len()),
                everything.accounts.len(),
                costs.days,
            ));
            Ok(())
        }
        Command::Snapshot { data, json, binary } => {
            let path = crate::serve::snapshot_path(data.as_deref());
            let bytes = std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let layout = if polo_core::model::binary::is_binary(&bytes) {
                format!("binary layout version {}", polo_core::model::binary::VERSION)
            } else {
                "JSON".to_owned()
            };
            let everything = polo_core::ports::parse_snapshot_bytes(&bytes, &path.display().to_string())?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&everything)?);
                return Ok(());
            }
            if let Some(out) = binary {
                // With `/`'s counts at the configured prices, as the sync writes it.
                let prices = polo_core::pricing::PriceTable::configured(&cli.load_config()?)?;
                let encoded = polo_core::model::binary::encode_for_pages(&everything, &prices);
                write_atomically(out, &encoded)?;
                println!("{}: {:.1} MB in the binary layout", out.display(), bytes_mb(encoded.len()));
                return Ok(());
            }
            println!(
                "{} ({layout}, {:.1} MB): built {}, {} instances, {} indexes, {} accounts",
                path.display(),
                bytes_mb(bytes.len()),
                polo_core::text::rfc3339(everything.generated_at),
                crate::progress::thousands(everything.instances.len()),
                crate::progress::thousands(everything.indexes.len()),
                everything.accounts.len(),
            );
            Ok(())
        }
        Command::Sync { resource, accounts, out, data, concurrency } => {
            let config = cli.load_config()?;
            let options = crate::sync::SyncOptions {
                resource: *resource,
                accounts: accounts.clone(),
                out: out.clone(),
                data: data.clone().unwrap_or_else(|| PathBuf::from("local_data.json")),
                concurrency: *concurrency,
            };
            crate::sync::run_sync(&config, &options, clock.now()).await
        }
        Command::Combine { out, data } => {
            let config = cli.load_config()?;
            let data = data.clone().unwrap_or_else(|| PathBuf::from("local_data.json"));
            crate::sync::run_combine(&config, out, &data, clock.now()).await
        }
        Command::Report { kind, period, dry_run, data, slack } => {
            let config = cli.load_config()?;
            let data = crate::serve::snapshot_path(data.as_deref());
            let options = crate::report::ReportOptions {
                kind: *kind,
                period: period.as_deref(),
                dry_run: *dry_run,
                stores: &Stores::local(&crate::serve::local_paths(cli.state.as_deref(), &data)),
                delivery: &slack.delivery(&config)?,
            };
            crate::report::run(&config, &options, clock.now()).await
        }
        Command::Cop { dry_run, data, slack } => {
            let config = cli.load_config()?;
            let data = crate::serve::snapshot_path(data.as_deref());
            let options = crate::cop::CopOptions {
                dry_run: *dry_run,
                stores: &Stores::local(&crate::serve::local_paths(cli.state.as_deref(), &data)),
                delivery: &slack.delivery(&config)?,
            };
            crate::cop::run(&config, &options, clock.now()).await
        }
        Command::Prices { regions, out } => {
            let config = cli.load_config()?;
            let regions: Vec<String> = if regions.is_empty() {
                let all: std::collections::BTreeSet<&String> =
                    config.accounts.iter().flat_map(|a| &a.regions).collect();
                all.into_iter().cloned().collect()
            } else {
                regions.clone()
            };
            let sdk = polo_aws::sdk_config()
                .await
                .into_builder()
                .region(aws_config::Region::from_static(crate::prices::PRICING_REGION))
                .build();
            let client = aws_sdk_pricing::Client::new(&sdk);
            let version = clock.now().date().to_string();
            let (table, duplicates) = crate::prices::fetch_prices(&client, &regions, version).await?;
            write_atomically(out, crate::prices::to_document(&table)?.as_bytes())?;
            let types: usize = table.regions.values().map(std::collections::BTreeMap::len).sum();
            println!(
                "prices: {types} instance types in {} regions written to {} ({duplicates} priced twice, lower kept)",
                table.regions.len(),
                out.display()
            );
            Ok(())
        }
        Command::TableUpgrade { table, dry_run } => {
            let config = cli.load_config()?;
            let client = polo_aws::dynamo_client(&polo_aws::sdk_config().await);
            let table = polo_aws::ResourceTable::new(client, table.as_str()).with_retention(config.retention);
            let done = table.upgrade(*dry_run).await?;
            let verb = if *dry_run { "would give" } else { "gave" };
            println!(
                "table-upgrade: read {} items; {verb} {} history items their day keys and {} vanished resources a TTL; {} changed meanwhile by a sync, left alone",
                done.scanned, done.history, done.vanished, done.skipped
            );
            Ok(())
        }
        Command::Sessions { action, table } => {
            crate::sessions::run(&cli, action, table.as_deref(), clock.now()).await
        }
        Command::Manifest { json } => {
            let manifest = crate::manifest::manifest().map_err(|e| anyhow::anyhow!(e))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&manifest)?);
                return Ok(());
            }
            for f in &manifest.functions {
                let data = |list: &[crate::manifest::Data]| match list {
                    [] => "-".to_owned(),
                    _ => list
                        .iter()
                        .map(|d| serde_json::to_string(d).unwrap_or_default().replace('"', ""))
                        .collect::<Vec<_>>()
                        .join(" "),
                };
                println!(
                    "{:<13} {:<5} {:>5} MB {:>4} s  reads {}  writes {}",
                    f.name,
                    serde_json::to_string(&f.kind)?.replace('"', ""),
                    f.memory_mb,
                    f.timeout_seconds,
                    data(&f.reads),
                    data(&f.writes)
                );
                for s in &f.schedules {
                    println!("{:14}schedule {:<18} {}", "", s.name, s.expression);
                }
                for r in &f.routes {
                    let who = if r.authorized { "signed-in" } else { "public" };
                    println!("{:14}{:<6} {:<28} {who}", "", r.method, r.path);
                }
            }
            Ok(())
        }
    }
}

/// Writes through a temporary file and a rename, so readers never see half a file.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot move into {}", path.display()))?;
    Ok(())
}
