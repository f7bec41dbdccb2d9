//! The live-update streams: one server-sent-events stream per open page,
//! which follows one `WatchFleet` stream to the hub and sends the page's
//! main part again only when a change of the replicated state changed it.
//! Nothing here asks the hub on a timer.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use fleet_proto::{FleetChange, WatchFleetRequest};
use serde::Deserialize;

use super::server::{Dashboard, Page, hub_said};

/// `/events?page=PATH`: the page to follow.
#[derive(Deserialize)]
pub(super) struct StreamQuery {
    page: String,
}

/// One stream per open page: the page's main part once, then again each
/// time the hub's `WatchFleet` stream says the state changed and the page
/// looks different. One hub stream per open page; no timer asks the hub.
pub(super) async fn events(
    State(dashboard): State<Arc<Dashboard>>,
    Query(query): Query<StreamQuery>,
) -> Response {
    let Some(page) = Page::from_path(&query.page) else {
        return (StatusCode::NOT_FOUND, "no such page").into_response();
    };
    let following = Following {
        dashboard,
        page,
        last: String::new(),
        changes: None,
        wait_before_opening: false,
    };
    let stream = futures::stream::unfold(following, |mut following| async move {
        let event = following.next_event().await;
        Some((Ok::<_, Infallible>(event), following))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// One open page's stream: what it last sent, and its hub stream.
struct Following {
    dashboard: Arc<Dashboard>,
    page: Page,
    last: String,
    changes: Option<tonic::Streaming<FleetChange>>,
    wait_before_opening: bool,
}

impl Following {
    /// The next event for the browser: the page when it changed, or why
    /// the hub cannot be followed right now.
    async fn next_event(&mut self) -> Event {
        loop {
            let Some(changes) = self.changes.as_mut() else {
                if self.wait_before_opening {
                    tokio::time::sleep(self.dashboard.reconnect).await;
                }
                self.wait_before_opening = true;
                let mut client = self.dashboard.client.clone();
                match client.watch_fleet(WatchFleetRequest {}).await {
                    // Its first message comes at once, and re-reads the page.
                    Ok(stream) => self.changes = Some(stream.into_inner()),
                    Err(status) => {
                        return Event::default().event("hub-error").data(hub_said(&status));
                    }
                }
                continue;
            };
            match changes.message().await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    self.changes = None;
                    return Event::default()
                        .event("hub-error")
                        .data("the hub's change stream ended; reconnecting");
                }
                Err(status) => {
                    self.changes = None;
                    return Event::default().event("hub-error").data(hub_said(&status));
                }
            }
            if self.page.settled() && !self.last.is_empty() {
                continue;
            }
            match self.page.render(&self.dashboard).await {
                Ok(main) if main == self.last => continue,
                Ok(main) => {
                    self.last.clone_from(&main);
                    return Event::default().event("update").data(main);
                }
                Err(status) => return Event::default().event("hub-error").data(hub_said(&status)),
            }
        }
    }
}
