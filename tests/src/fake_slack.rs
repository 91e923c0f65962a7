//! A local stand-in for a Slack incoming webhook: it records every message posted and answers
//! from a script, 200 once the script runs out.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a panic is a failed test

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One webhook on 127.0.0.1.
#[derive(Default)]
pub struct FakeSlack {
    received: Mutex<Vec<Value>>,
    /// Answers to give, in order: (status, `Retry-After`).
    script: Mutex<VecDeque<(u16, Option<&'static str>)>>,
}

impl FakeSlack {
    /// Serves a webhook on a free port that answers `script` first; returns it and its URL.
    pub async fn start(script: &[(u16, Option<&'static str>)]) -> (Arc<FakeSlack>, String) {
        let slack = Arc::new(FakeSlack {
            script: Mutex::new(script.iter().copied().collect()),
            ..FakeSlack::default()
        });
        let app =
            axum::Router::new().route("/hook", axum::routing::post(webhook)).with_state(Arc::clone(&slack));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (slack, url)
    }

    /// Adds an answer to the script: `status`, with `Retry-After` when given.
    pub fn answer(&self, status: u16, retry_after: Option<&'static str>) {
        self.script.lock().unwrap().push_back((status, retry_after));
    }

    /// Every message posted so far, in order.
    pub fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }
}

async fn webhook(State(slack): State<Arc<FakeSlack>>, body: axum::body::Bytes) -> Response {
    slack.received.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
    let (status, retry) = slack.script.lock().unwrap().pop_front().unwrap_or((200, None));
    let mut response = (StatusCode::from_u16(status).unwrap(), "ok").into_response();
    if let Some(seconds) = retry {
        response.headers_mut().insert("retry-after", seconds.parse().unwrap());
    }
    response
}
