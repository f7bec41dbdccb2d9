//! Plain HTTP calls to a hub's HTTP port (readiness, metrics, the signed
//! Git webhook) — what the demo and the benchmarks need without a client
//! library.

use std::net::SocketAddr;

use hmac::{Hmac, Mac};

/// Calls the hub's Git webhook, signed like GitHub does; returns the HTTP status.
pub async fn webhook(address: SocketAddr, secret: &[u8]) -> anyhow::Result<u16> {
    let body = br#"{"ref":"refs/heads/main"}"#;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret)?;
    mac.update(body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let (code, _) = request(
        address,
        "POST",
        "/webhook/git",
        &[("X-Hub-Signature-256", &signature)],
        body,
    )
    .await?;
    Ok(code)
}

/// A minimal HTTP/1.1 request on loopback.
pub async fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> anyhow::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let code = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Ok((
        code,
        response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default(),
    ))
}
