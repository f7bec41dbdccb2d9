//! Loopback ports and a minimal HTTP/1.1 client for the hub's HTTP port.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Ports tests hand to processes they start: below Linux's ephemeral range
/// (32768–60999 by default). A port found free in the ephemeral range can be
/// taken, before the process binds it, as the source port of any outgoing
/// connection on the machine — from another test running at the same time —
/// and the process then fails with "address in use". Below that range only
/// an explicit bind can take it.
const TEST_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A free loopback port on 127.0.0.1 (see [`free_port_on`]).
pub fn free_port() -> u16 {
    free_port_on(std::net::IpAddr::from([127, 0, 0, 1]))
}

/// A port on `ip` that is free now and outside the ephemeral range, so that
/// nothing but another explicit bind can take it before the caller's
/// process binds it.
pub fn free_port_on(ip: std::net::IpAddr) -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let span = u64::from(TEST_PORTS.end - TEST_PORTS.start);
    for attempt in 0u64..10_000 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(attempt);
        hasher.write_u32(std::process::id());
        let offset = u16::try_from(hasher.finish() % span).unwrap();
        let port = TEST_PORTS.start + offset;
        if TcpListener::bind((ip, port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {TEST_PORTS:?} on {ip}");
}

/// One HTTP request; returns (status code, body).
pub fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    stream.write_all(body)?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let code = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((code, body))
}

/// `sha256=<hex>` HMAC of `body`, as GitHub signs webhooks.
pub fn github_signature(secret: &[u8], body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
