//! Browser sessions in the session table behave as every session store must (the
//! conformance suite the memory and file stores pass too), against the emulator.

use polo_aws::SessionTable;
use polo_core::ports::conformance;
use time::macros::datetime;

use crate::harness::{base_config, emulator, fresh_name};
use crate::reports::create_report_table;

#[tokio::test]
async fn the_session_table_keeps_the_session_contract() {
    let base = base_config(&emulator()).await;
    let table = fresh_name("polo-sessions");
    // The same key schema as the report table: pk and sk strings.
    create_report_table(&base, &table).await;
    let store = SessionTable::new(aws_sdk_dynamodb::Client::new(&base), &table);
    conformance::sessions(&store, datetime!(2026-12-01 12:00 UTC)).await.unwrap();
}
