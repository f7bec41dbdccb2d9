//! The agent sessions open on this node.

use std::collections::HashMap;
use std::sync::Mutex;

/// Open sessions per cluster (an agent reconnecting may briefly hold two).
#[derive(Debug, Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, usize>>,
}

impl Sessions {
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
