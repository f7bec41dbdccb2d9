//! The agent sessions open on this node, and the signal that ends them all
//! when the node stops.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

/// Open sessions per cluster (an agent reconnecting may briefly hold two).
#[derive(Debug)]
pub struct Sessions {
    open: Mutex<HashMap<String, usize>>,
    /// Set when the node stops: every session tells its agent to reconnect
    /// elsewhere and ends; new sessions are sent away at once.
    closing: watch::Sender<bool>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
            open: Mutex::new(HashMap::new()),
            closing: watch::channel(false).0,
        }
    }
}

impl Sessions {
    /// Sends every session (open now or opened later) away: the node stops.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`Sessions::close_all`] has been called.
    pub fn closing(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// Whether the node has started to stop.
    pub fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    /// How many sessions are open.
    pub fn count(&self) -> usize {
        self.lock().values().sum()
    }

    /// Records a session opening.
    pub fn opened(&self, cluster: &str) {
        *self.lock().entry(cluster.to_owned()).or_default() += 1;
    }

    /// Records a session closing.
    pub fn closed(&self, cluster: &str) {
        let mut open = self.lock();
        if let Some(count) = open.get_mut(cluster) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(cluster);
            }
        }
    }

    /// Whether `cluster` has a session here.
    pub fn is_connected(&self, cluster: &str) -> bool {
        self.lock().contains_key(cluster)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
