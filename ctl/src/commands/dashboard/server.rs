//! The dashboard's HTTP server: pages, the rollout
//! actions (CSRF token and Origin checked) and the embedded assets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use fleet_proto::MAX_MESSAGE_BYTES;
use fleet_proto::RolloutActionRequest;
use fleet_proto::admin_service_client::AdminServiceClient;
use serde::Deserialize;
use tonic::{Code, Status};

use super::args::DashboardArgs;
use super::html::{escape, layout};
use super::pages::{self, Client};
use crate::error::CliError;
use crate::hub_client::hub_channel;

const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

/// What every request shares.
pub(super) struct Dashboard {
    pub(super) client: Client,
    /// Per-process token every POST must carry.
    csrf: String,
    /// `host:port` values the Host and Origin headers may name.
    authorities: Vec<String>,
    /// Wait before opening the hub's change stream again after it ended.
    pub(super) reconnect: Duration,
}

/// A page of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Page {
    Fleet,
    Rollout,
    Revisions,
    Audit,
    Cluster(String),
    RevisionPlan(String),
}

impl Page {
    pub(super) fn from_path(path: &str) -> Option<Self> {
        Some(match path {
            "/" => Page::Fleet,
            "/rollout" => Page::Rollout,
            "/revisions" => Page::Revisions,
            "/audit" => Page::Audit,
            other => match other.strip_prefix("/cluster/") {
                Some(name) => Page::Cluster(name.to_owned()),
                None => Page::RevisionPlan(other.strip_prefix("/revisions/")?.to_owned()),
            },
        })
    }

    fn path(&self) -> String {
        match self {
            Page::Fleet => "/".to_owned(),
            Page::Rollout => "/rollout".to_owned(),
            Page::Revisions => "/revisions".to_owned(),
            Page::Audit => "/audit".to_owned(),
            Page::Cluster(name) => format!("/cluster/{name}"),
            Page::RevisionPlan(revision) => format!("/revisions/{revision}"),
        }
    }

    /// Whether what the page shows never changes once shown (a revision's
    /// plan): its stream sends nothing after the page.
    pub(super) fn settled(&self) -> bool {
        matches!(self, Page::RevisionPlan(_))
    }

    fn title(&self) -> String {
        match self {
            Page::Fleet => "Fleet".to_owned(),
            Page::Rollout => "Rollout".to_owned(),
            Page::Revisions => "Revisions".to_owned(),
            Page::Audit => "Audit".to_owned(),
            Page::Cluster(name) => format!("Cluster {name}"),
            Page::RevisionPlan(revision) => format!("Revision {revision}"),
        }
    }

    pub(super) async fn render(&self, dashboard: &Dashboard) -> Result<String, Status> {
        let mut client = dashboard.client.clone();
        match self {
            Page::Fleet => pages::fleet(&mut client).await,
            Page::Rollout => pages::rollout(&mut client, &dashboard.csrf).await,
            Page::Revisions => pages::revisions(&mut client).await,
            Page::Audit => pages::audit(&mut client).await,
            Page::Cluster(name) => super::cluster_page::cluster(&mut client, name).await,
            Page::RevisionPlan(revision) => {
                super::revision_page::revision_plan(&mut client, revision).await
            }
        }
    }
}

/// Serves the dashboard until Ctrl-C.
pub async fn run(args: &DashboardArgs) -> Result<(), CliError> {
    let client = AdminServiceClient::new(hub_channel(&args.hub).await?)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let csrf = fleet_hub::pki::SecretToken::bootstrap()
        .map_err(|_| CliError::Failure(anyhow::anyhow!("the system random source failed")))?
        .hash;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|error| {
            CliError::input(
                format!("cannot listen on {}: {error}", args.listen),
                Some("choose another address with --listen".to_owned()),
            )
        })?;
    let address = listener
        .local_addr()
        .map_err(|error| CliError::Failure(error.into()))?;
    let dashboard = Arc::new(Dashboard {
        client,
        csrf,
        authorities: authorities(address),
        reconnect: args.reconnect.0.max(Duration::from_millis(200)),
    });
    let router = Router::new()
        .route("/", get(page))
        .route("/rollout", get(page))
        .route("/revisions", get(page))
        .route("/audit", get(page))
        .route("/cluster/{name}", get(cluster_page))
        .route("/revisions/{revision}", get(revision_page))
        .route("/events", get(super::live::events))
        .route("/actions/rollout", post(rollout_action))
        .route("/assets/app.js", get(script))
        .route("/assets/app.css", get(style))
        .layer(middleware::from_fn_with_state(dashboard.clone(), guard))
        .with_state(dashboard);
    let url = format!("http://{address}/");
    eprintln!("fleet dashboard on {url} (Ctrl-C stops it)");
    if !args.no_open {
        open_browser(&url);
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|error| CliError::Failure(anyhow::anyhow!("serving the dashboard: {error}")))
}

/// The `host:port` names this server answers to: its address, and
/// `localhost` when it listens on loopback.
fn authorities(address: SocketAddr) -> Vec<String> {
    let mut names = vec![address.to_string()];
    if address.ip().is_loopback() {
        names.push(format!("localhost:{}", address.port()));
    }
    names
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_err()
    {
        eprintln!("open {url} in a browser");
    }
}

/// Refuses requests for another Host (DNS rebinding) and adds the security
/// headers to every answer.
async fn guard(State(dashboard): State<Arc<Dashboard>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or_default();
    if !dashboard.authorities.iter().any(|name| name == host) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this dashboard answers to {} only",
                dashboard.authorities.join(", ")
            ),
        )
            .into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn http_status(status: &Status) -> StatusCode {
    match status.code() {
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::FailedPrecondition | Code::Aborted => StatusCode::CONFLICT,
        _ => StatusCode::BAD_GATEWAY,
    }
}

/// The hub's refusal as the user sees it (PERMISSION_DENIED as it came).
pub(super) fn hub_said(status: &Status) -> String {
    format!("the hub said {:?}: {}", status.code(), status.message())
}

async fn show(dashboard: &Dashboard, page: Page) -> Response {
    let stream = format!("/events?page={}", page.path());
    match page.render(dashboard).await {
        Ok(main) => axum::response::Html(layout(
            &page.title(),
            &page.path(),
            &main,
            &stream,
            &dashboard.csrf,
        ))
        .into_response(),
        Err(status) => {
            let main = format!(
                "<h1>{}</h1><p class=\"failures\">{}</p>",
                escape(&page.title()),
                escape(&hub_said(&status))
            );
            (
                http_status(&status),
                axum::response::Html(layout(
                    &page.title(),
                    &page.path(),
                    &main,
                    &stream,
                    &dashboard.csrf,
                )),
            )
                .into_response()
        }
    }
}

async fn page(State(dashboard): State<Arc<Dashboard>>, uri: axum::http::Uri) -> Response {
    match Page::from_path(uri.path()) {
        Some(page) => show(&dashboard, page).await,
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn cluster_page(
    State(dashboard): State<Arc<Dashboard>>,
    Path(name): Path<String>,
) -> Response {
    show(&dashboard, Page::Cluster(name)).await
}

async fn revision_page(
    State(dashboard): State<Arc<Dashboard>>,
    Path(revision): Path<String>,
) -> Response {
    show(&dashboard, Page::RevisionPlan(revision)).await
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    wave: String,
}

/// Whether two secrets are equal, in time independent of where they differ.
fn same_secret(left: &str, right: &str) -> bool {
    left.len() == right.len()
        && left
            .bytes()
            .zip(right.bytes())
            .fold(0_u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// promote / pause / resume / rollback, from a page of this dashboard only.
async fn rollout_action(
    State(dashboard): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Form(form): Form<ActionForm>,
) -> Response {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|origin| origin.to_str().ok())
        .unwrap_or_default();
    let origin_ok = dashboard
        .authorities
        .iter()
        .any(|name| origin == format!("http://{name}"));
    if !origin_ok {
        return (
            StatusCode::FORBIDDEN,
            "refused: the request does not come from this dashboard (Origin)",
        )
            .into_response();
    }
    if !same_secret(&form.csrf, &dashboard.csrf) {
        return (
            StatusCode::FORBIDDEN,
            "refused: missing or wrong CSRF token",
        )
            .into_response();
    }
    if !matches!(
        form.action.as_str(),
        "promote" | "pause" | "resume" | "rollback"
    ) {
        return (StatusCode::BAD_REQUEST, "unknown action").into_response();
    }
    let mut client = dashboard.client.clone();
    match client
        .rollout_action(RolloutActionRequest {
            action: form.action,
            wave: form.wave,
            all: false,
            ignore_windows: false,
        })
        .await
    {
        Ok(_) => Redirect::to("/rollout").into_response(),
        Err(status) => (http_status(&status), hub_said(&status)).into_response(),
    }
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
}

async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}
