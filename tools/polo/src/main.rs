use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser;
use polo::cli::{Cli, run};

#[tokio::main]
async fn main() -> ExitCode {
    // The sync engine's per-pull lines are the command's own output (src/sync.rs), not logs.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,polo_sync_engine=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    let cli = Cli::parse();
    match Box::pin(run(cli)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polo: error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
