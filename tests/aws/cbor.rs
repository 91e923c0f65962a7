//! CloudWatch's rpc-v2-cbor protocol, which the SDK speaks, carried to the emulator in its
//! JSON 1.0 protocol, which it answers (`X-Amz-Target: GraniteServiceVersion20100801.{op}`):
//! the request's CBOR as JSON, the answer's JSON as CBOR, timestamps as CBOR's epoch tag.
//! The emulator keeps the metrics and computes the statistics; this only translates.

use aws_smithy_cbor::data::Type;
use aws_smithy_cbor::{Decoder, Encoder};
use aws_smithy_types::DateTime;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// The path prefix of a CloudWatch rpc-v2-cbor request.
pub const PREFIX: &str = "/service/GraniteServiceVersion20100801/operation/";

/// Forwards `request` to the emulator at `target` in JSON and answers in CBOR.
pub async fn translate(client: &reqwest::Client, target: &str, request: Request) -> Response {
    let operation = request.uri().path().trim_start_matches(PREFIX).to_owned();
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    let json = if body.is_empty() { Value::Object(Map::new()) } else { to_json(&mut Decoder::new(&body)) };
    let mut outgoing = client
        .post(format!("{target}/"))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("GraniteServiceVersion20100801.{operation}"))
        .body(json.to_string());
    for (name, value) in &parts.headers {
        if ["authorization", "x-amz-date", "x-amz-security-token"].contains(&name.as_str()) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.send().await {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let text = answer.bytes().await.unwrap_or_default();
    let value: Value = serde_json::from_slice(&text).unwrap_or_else(|_| Value::Object(Map::new()));
    let mut encoder = Encoder::new(Vec::new());
    to_cbor(&value, &mut encoder, false);
    let mut response = Response::new(Body::from(encoder.into_writer()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", "application/cbor".parse().unwrap());
    headers.insert("smithy-protocol", "rpc-v2-cbor".parse().unwrap());
    response
}

/// One CBOR item as JSON; a timestamp as its epoch seconds.
fn to_json(d: &mut Decoder) -> Value {
    match d.datatype().unwrap() {
        Type::Bool => Value::Bool(d.boolean().unwrap()),
        Type::Null | Type::Undefined => {
            d.skip().unwrap();
            Value::Null
        }
        Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::Int => Value::from(d.long().unwrap()),
        Type::F16 | Type::F32 => Value::from(f64::from(d.float().unwrap())),
        Type::F64 => Value::from(d.double().unwrap()),
        Type::String | Type::StringIndef => Value::String(d.string().unwrap()),
        Type::Tag => Value::from(d.timestamp().unwrap().as_secs_f64()),
        Type::Array | Type::ArrayIndef => {
            let mut items = Vec::new();
            if let Some(n) = d.list().unwrap() {
                (0..n).for_each(|_| items.push(to_json(d)));
            } else {
                while !at_break(d) {
                    items.push(to_json(d));
                }
                d.set_position(d.position() + 1);
            }
            Value::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let mut fields = Map::new();
            let mut field = |d: &mut Decoder| {
                let key = d.string().unwrap();
                let value = to_json(d);
                fields.insert(key, value);
            };
            if let Some(n) = d.map().unwrap() {
                (0..n).for_each(|_| field(d));
            } else {
                while !at_break(d) {
                    field(d);
                }
                d.set_position(d.position() + 1);
            }
            Value::Object(fields)
        }
        other => panic!("CBOR type {other:?} at {} is not in CloudWatch's answers", d.position()),
    }
}

/// Whether the next byte ends an indefinite array or map (the decoder names it `Unknown(31)`).
fn at_break(d: &Decoder) -> bool {
    matches!(d.datatype(), Ok(Type::Break | Type::Unknown(31)))
}

/// `value` as CBOR; numbers under a `Timestamps` or `Timestamp` key as timestamps.
fn to_cbor(value: &Value, e: &mut Encoder, timestamp: bool) {
    match value {
        Value::Null => {
            e.null();
        }
        Value::Bool(b) => {
            e.boolean(*b);
        }
        Value::Number(n) if timestamp => {
            e.timestamp(&DateTime::from_secs_f64(n.as_f64().unwrap()));
        }
        Value::Number(n) => match n.as_i64() {
            Some(i) => {
                e.long(i);
            }
            None => {
                e.double(n.as_f64().unwrap());
            }
        },
        Value::String(s) => {
            e.str(s);
        }
        Value::Array(items) => {
            e.array(items.len());
            for item in items {
                to_cbor(item, e, timestamp);
            }
        }
        Value::Object(fields) => {
            e.map(fields.len());
            for (key, v) in fields {
                e.str(key);
                to_cbor(v, e, key == "Timestamps" || key == "Timestamp");
            }
        }
    }
}
