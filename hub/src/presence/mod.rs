//! Agent sessions made known to every hub node: each node records its
//! sessions opening and closing, and its heartbeat, in the log
//! ([`PresenceRecorder`]); the leader reports clusters disconnected longer
//! than `notifications.clusterDisconnectedAfter` ([`DisconnectWatcher`]).
//! The replicated records and their rules are in `state/presence.rs`.

mod recorder;
mod settings;
mod watcher;

pub use recorder::PresenceRecorder;
pub use settings::PresenceConfig;
pub use watcher::DisconnectWatcher;
