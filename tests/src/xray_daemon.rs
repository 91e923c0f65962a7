//! A local stand-in for the X-Ray daemon: a UDP socket, and the documents sent to it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a panic is a failed test

use std::net::UdpSocket;
use std::time::Duration;

use serde_json::Value;

/// A socket on 127.0.0.1 that gives up waiting after `quiet`, and its address.
pub fn start(quiet: Duration) -> (UdpSocket, String) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(quiet)).unwrap();
    let address = socket.local_addr().unwrap().to_string();
    (socket, address)
}

/// Every document that arrives until the socket has been quiet for its timeout. Each datagram
/// must be the daemon protocol's header line, then one JSON document.
pub fn documents(daemon: &UdpSocket) -> Vec<Value> {
    let mut out = Vec::new();
    let mut buf = vec![0_u8; 65_536];
    while let Ok(n) = daemon.recv(&mut buf) {
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        let (header, document) = text.split_once('\n').unwrap();
        assert_eq!(header, r#"{"format":"json","version":1}"#);
        out.push(serde_json::from_str(document).unwrap());
    }
    out
}
