//! A small blocking HTTP/1.1 GET for fetching charts: `http://` and
//! `https://` (rustls, the system's trust roots), basic authentication,
//! redirects, a wall-clock deadline and a size cap. Fleet fetches only
//! index files, chart archives and registry blobs; nothing else is needed.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 5;

/// A GET that failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    /// The URL is not `http://host[:port]/path` or `https://…`.
    #[error("unsupported URL '{0}' (expected http:// or https://)")]
    Url(String),
    /// Connecting, TLS, sending or receiving failed.
    #[error("{url}: {message}")]
    Transport {
        /// The URL.
        url: String,
        /// What failed.
        message: String,
    },
    /// The deadline passed.
    #[error("{url}: no complete answer within {} s", timeout.as_secs_f64())]
    TimedOut {
        /// The URL.
        url: String,
        /// The limit.
        timeout: Duration,
    },
    /// The body is larger than allowed.
    #[error("{url}: more than {limit} bytes (refused)")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The server answered with a status other than 200.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// `WWW-Authenticate`, for registries' token flow.
        authenticate: Option<String>,
    },
}

/// One GET request.
#[derive(Debug, Clone)]
pub struct Get<'a> {
    /// The URL.
    pub url: &'a str,
    /// Basic credentials (user, password) or a bearer token.
    pub authorization: Option<Authorization>,
    /// Extra headers (name, value).
    pub headers: Vec<(&'a str, String)>,
    /// Wall-clock limit of the whole request, redirects included.
    pub timeout: Duration,
    /// Most body bytes accepted.
    pub limit: u64,
    /// PEM CA certificates trusted for `https://` besides the system's roots.
    pub ca_file: Option<&'a Path>,
}

/// How a request authenticates.
#[derive(Clone)]
pub enum Authorization {
    /// `Authorization: Basic`.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// `Authorization: Bearer`.
    Bearer(String),
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        match self {
            Self::Basic { username, .. } => write!(formatter, "Basic({username}, ***)"),
            Self::Bearer(_) => write!(formatter, "Bearer(***)"),
        }
    }
}

impl Get<'_> {
    /// Performs the request and returns the body of a 200 answer.
    pub fn send(&self) -> Result<Vec<u8>, HttpError> {
        let deadline = Instant::now() + self.timeout;
        let mut url = self.url.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let answer = self.once(&url, deadline)?;
            match answer.status {
                200 => return Ok(answer.body),
                301 | 302 | 303 | 307 | 308 => {
                    let Some(location) = answer.header("location") else {
                        return Err(self.status(&url, &answer));
                    };
                    url = join_url(&url, &location);
                }
                _ => return Err(self.status(&url, &answer)),
            }
        }
        Err(HttpError::Transport {
            url,
            message: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    fn status(&self, url: &str, answer: &Answer) -> HttpError {
        HttpError::Status {
            url: url.to_owned(),
            status: answer.status,
            authenticate: answer.header("www-authenticate"),
        }
    }

    fn once(&self, url: &str, deadline: Instant) -> Result<Answer, HttpError> {
        let parsed = ParsedUrl::parse(url)?;
        let transport = |message: String| HttpError::Transport {
            url: url.to_owned(),
            message,
        };
        let remaining = || {
            deadline
                .checked_duration_since(Instant::now())
                .filter(|left| !left.is_zero())
                .ok_or_else(|| HttpError::TimedOut {
                    url: url.to_owned(),
                    timeout: self.timeout,
                })
        };
        let address = (parsed.host.as_str(), parsed.port)
            .to_socket_addrs()
            .map_err(|error| transport(format!("resolving {}: {error}", parsed.host)))?
            .next()
            .ok_or_else(|| transport(format!("{} has no address", parsed.host)))?;
        let stream = TcpStream::connect_timeout(&address, remaining()?)
            .map_err(|error| transport(format!("connecting to {address}: {error}")))?;
        let left = remaining()?;
        stream
            .set_read_timeout(Some(left))
            .and_then(|()| stream.set_write_timeout(Some(left)))
            .map_err(|error| transport(error.to_string()))?;
        let mut request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: fleet\r\nAccept-Encoding: identity\r\nConnection: close\r\n",
            parsed.path, parsed.authority
        );
        match &self.authorization {
            Some(Authorization::Basic { username, password }) => {
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                request.push_str(&format!("Authorization: Basic {token}\r\n"));
            }
            Some(Authorization::Bearer(token)) => {
                request.push_str(&format!("Authorization: Bearer {token}\r\n"));
            }
            None => {}
        }
        for (name, value) in &self.headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let limit = self.limit.saturating_add(64 * 1024);
        let raw = if parsed.tls {
            let config = match self.ca_file {
                None => tls_config(),
                Some(ca_file) => tls_config_with(ca_file),
            }
            .map_err(transport)?;
            let server_name = rustls::pki_types::ServerName::try_from(parsed.host.clone())
                .map_err(|error| transport(error.to_string()))?;
            let connection = rustls::ClientConnection::new(config, server_name)
                .map_err(|error| transport(error.to_string()))?;
            let mut tls = rustls::StreamOwned::new(connection, stream);
            exchange(&mut tls, &request, limit, deadline).map_err(|error| match error {
                Exchange::Io(error) if error.to_string().contains("invalid peer certificate") => {
                    Exchange::Io(std::io::Error::other(format!(
                        "{error} (a repository with its own CA needs it in render.chartCaFile \
                         in hub.yaml / fleetctl --chart-ca-file)"
                    )))
                }
                other => other,
            })
        } else {
            let mut stream = stream;
            exchange(&mut stream, &request, limit, deadline)
        };
        let raw = raw.map_err(|error| match error {
            Exchange::TooLarge => HttpError::TooLarge {
                url: url.to_owned(),
                limit: self.limit,
            },
            Exchange::TimedOut => HttpError::TimedOut {
                url: url.to_owned(),
                timeout: self.timeout,
            },
            Exchange::Io(error) => transport(error.to_string()),
        })?;
        let answer = Answer::parse(&raw).map_err(transport)?;
        if answer.body.len() as u64 > self.limit {
            return Err(HttpError::TooLarge {
                url: url.to_owned(),
                limit: self.limit,
            });
        }
        Ok(answer)
    }
}

enum Exchange {
    TooLarge,
    TimedOut,
    Io(std::io::Error),
}

fn exchange(
    stream: &mut (impl Read + Write),
    request: &str,
    limit: u64,
    deadline: Instant,
) -> Result<Vec<u8>, Exchange> {
    stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.flush())
        .map_err(Exchange::Io)?;
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if Instant::now() >= deadline {
            return Err(Exchange::TimedOut);
        }
        match stream.read(&mut buffer) {
            Ok(0) => return Ok(raw),
            Ok(count) => {
                raw.extend_from_slice(&buffer[..count]);
                if raw.len() as u64 > limit {
                    return Err(Exchange::TooLarge);
                }
            }
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Exchange::TimedOut);
            }
            // Servers that close without TLS close_notify: what was read is the answer.
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(raw),
            Err(error) => return Err(Exchange::Io(error)),
        }
    }
}

/// The system's roots, loaded once.
fn system_roots() -> &'static rustls::RootCertStore {
    static ROOTS: OnceLock<rustls::RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        for certificate in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(certificate);
        }
        roots
    })
}

fn client_config(roots: rustls::RootCertStore) -> Result<Arc<rustls::ClientConfig>, String> {
    if roots.is_empty() {
        return Err("no trusted root certificates found on this system".to_owned());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The system's roots only (built once).
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| client_config(system_roots().clone()))
        .clone()
}

/// The system's roots and every certificate of the PEM file `ca_file`.
fn tls_config_with(ca_file: &Path) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let unreadable = |error: &dyn std::fmt::Display| {
        format!("reading the chart CA file {}: {error}", ca_file.display())
    };
    let mut roots = system_roots().clone();
    let mut added = 0;
    for certificate in CertificateDer::pem_file_iter(ca_file).map_err(|error| unreadable(&error))? {
        let certificate = certificate.map_err(|error| unreadable(&error))?;
        roots.add(certificate).map_err(|error| unreadable(&error))?;
        added += 1;
    }
    if added == 0 {
        return Err(unreadable(&"no PEM certificate in it"));
    }
    client_config(roots)
}

struct ParsedUrl {
    tls: bool,
    host: String,
    port: u16,
    authority: String,
    path: String,
}

impl ParsedUrl {
    fn parse(url: &str) -> Result<Self, HttpError> {
        let invalid = || HttpError::Url(url.to_owned());
        let (tls, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(invalid());
        };
        let (authority, path) = match rest.find('/') {
            Some(index) => (&rest[..index], &rest[index..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(invalid());
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                (host, port.parse().map_err(|_| invalid())?)
            }
            _ => (authority, if tls { 443 } else { 80 }),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        Ok(Self {
            tls,
            host,
            port,
            authority: authority.to_owned(),
            path: path.to_owned(),
        })
    }
}

/// `reference` resolved against `base` (absolute URL, absolute path, or relative).
pub fn join_url(base: &str, reference: &str) -> String {
    if reference.starts_with("http://") || reference.starts_with("https://") {
        return reference.to_owned();
    }
    let scheme_end = base.find("://").map_or(0, |index| index + 3);
    let origin_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |index| scheme_end + index);
    if reference.starts_with('/') {
        return format!("{}{reference}", &base[..origin_end]);
    }
    let directory_end = base.rfind('/').filter(|index| *index >= origin_end);
    match directory_end {
        Some(index) => format!("{}/{reference}", &base[..index]),
        None => format!("{base}/{reference}"),
    }
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    }

    fn parse(raw: &[u8]) -> Result<Self, String> {
        let end = raw
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .ok_or("the answer has no complete header")?;
        let head = std::str::from_utf8(&raw[..end]).map_err(|_| "the header is not text")?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("bad status line '{status_line}'"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        let mut body = raw[end + 4..].to_vec();
        let chunked = headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked")
        });
        if chunked {
            body = dechunk(&body)?;
        } else if let Some(length) = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.parse::<usize>().ok())
        {
            if body.len() < length {
                return Err(format!(
                    "the body ended after {} of {length} bytes",
                    body.len()
                ));
            }
            body.truncate(length);
        }
        Ok(Self {
            status,
            headers,
            body,
        })
    }
}

fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|window| window == b"\r\n")
            .ok_or("a chunk size line is incomplete")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).map_err(|_| "bad chunk size")?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size '{size_text}'"))?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if raw.len() < size + 2 {
            return Err("a chunk is incomplete".to_owned());
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_references_resolve_like_a_browser() {
        let base = "http://127.0.0.1:8080/charts/index.yaml";
        assert_eq!(
            join_url(base, "podinfo-1.0.0.tgz"),
            "http://127.0.0.1:8080/charts/podinfo-1.0.0.tgz"
        );
        assert_eq!(join_url(base, "/x.tgz"), "http://127.0.0.1:8080/x.tgz");
        assert_eq!(join_url(base, "https://cdn/x.tgz"), "https://cdn/x.tgz");
        assert_eq!(join_url("http://h:1", "x.tgz"), "http://h:1/x.tgz");
    }

    #[test]
    fn chunked_and_sized_bodies_are_read() {
        let answer = Answer::parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!(answer.body, b"abcde");
        let answer =
            Answer::parse(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nnoEXTRA").unwrap();
        assert_eq!((answer.status, answer.body.as_slice()), (404, &b"no"[..]));
    }
}
