//! A local HTTP receiver of the hub's notifications: records every request
//! (headers and body) and answers 2xx, or 500 for the first `failures`
//! requests, or holds requests unanswered while told to.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
    /// The status answered (0: the request was held, so its sender may
    /// never have seen an answer).
    pub answered: u16,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    /// `X-Fleet-Event-Id`.
    pub fn event_id(&self) -> String {
        self.headers
            .get("x-fleet-event-id")
            .cloned()
            .unwrap_or_default()
    }
}

/// The receiver; stops with the test's runtime.
#[derive(Clone)]
pub struct WebhookReceiver {
    /// Where it listens.
    pub address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    failures_left: Arc<AtomicUsize>,
    hold: Arc<AtomicBool>,
    released: Arc<tokio::sync::Notify>,
}

impl WebhookReceiver {
    /// Listens on a loopback port; the first `failures` requests get 500.
    pub async fn start(failures: usize) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Self {
            address: listener.local_addr().unwrap(),
            received: Arc::default(),
            failures_left: Arc::new(AtomicUsize::new(failures)),
            hold: Arc::default(),
            released: Arc::default(),
        };
        let serving = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let serving = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let serving = serving.clone();
                        async move { serving.answer(request).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        receiver
    }

    /// The URL to give the hub.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// Holds every request unanswered from now on (`true`) or answers again.
    pub fn hold(&self, hold: bool) {
        self.hold.store(hold, Ordering::SeqCst);
        if !hold {
            self.released.notify_waiters();
        }
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    async fn answer(
        &self,
        request: hyper::Request<hyper::body::Incoming>,
    ) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = request
            .into_body()
            .collect()
            .await
            .map(|body| body.to_bytes().to_vec())
            .unwrap_or_default();
        let index = {
            let mut received = self.received.lock().unwrap();
            received.push(Received {
                headers,
                body,
                answered: 0,
            });
            received.len() - 1
        };
        if self.hold.load(Ordering::SeqCst) {
            let released = self.released.notified();
            if self.hold.load(Ordering::SeqCst) {
                released.await;
            }
            return Ok(hyper::Response::builder()
                .status(503)
                .body(Full::new(Bytes::new()))
                .unwrap());
        }
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        let status = if failing { 500 } else { 204 };
        self.received.lock().unwrap()[index].answered = status;
        Ok(hyper::Response::builder()
            .status(status)
            .body(Full::new(Bytes::new()))
            .unwrap())
    }
}
