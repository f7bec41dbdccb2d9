//! `fleetctl dashboard`: the fleet in a browser, served on this machine and
//! talking to the hub with the user's own client certificate (like
//! `kubectl proxy`): whatever the hub allows that identity applies, and the
//! hub's refusals are shown as they are.
//!
//! Server-rendered HTML (plain `format!` with escaping, `html.rs`), a little
//! embedded JavaScript and CSS (`assets/`), live updates by server-sent
//! events: one stream per open page, which follows the hub's `WatchFleet`
//! stream (one per page) and sends the page's main part when a change of
//! the replicated state changed it.

pub mod args;
mod cluster_page;
mod html;
mod live;
mod pages;
mod revision_page;
mod server;

pub use server::run;
