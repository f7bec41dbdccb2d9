//! When each simulated agent first held each revision (Unix milliseconds):
//! the raw material of the scale figures.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use fleet_hub::clock::now_ms;

/// Receipts of desired states, by cluster and revision.
#[derive(Debug, Default)]
pub struct Receipts {
    first_held: Mutex<HashMap<String, HashMap<String, u64>>>,
}

impl Receipts {
    /// `cluster` holds `revision` now (only the first time counts).
    pub fn received(&self, cluster: &str, revision: &str) {
        let now = now_ms();
        self.lock()
            .entry(cluster.to_owned())
            .or_default()
            .entry(revision.to_owned())
            .or_insert(now);
    }

    /// When each cluster first held `revision`.
    pub fn holding(&self, revision: &str) -> HashMap<String, u64> {
        self.lock()
            .iter()
            .filter_map(|(cluster, revisions)| {
                revisions.get(revision).map(|at| (cluster.clone(), *at))
            })
            .collect()
    }

    /// How many clusters have held `revision`.
    pub fn count(&self, revision: &str) -> usize {
        self.lock()
            .values()
            .filter(|revisions| revisions.contains_key(revision))
            .count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashMap<String, u64>>> {
        self.first_held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
