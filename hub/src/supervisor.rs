//! [`TaskSupervisor`]: the hub node's long-lived background tasks (Git
//! sync, rollout driver, membership reconciler, status batcher, target
//! board) are spawned here instead of being dropped. None of them may end
//! while the node runs: the first one that returns or panics is reported
//! with its name and panic message, marks the node unhealthy (`/readyz`
//! fails) and ends [`crate::app::serve`] with an error, so the process exits
//! non-zero and systemd or Kubernetes restarts it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::task::{JoinError, JoinSet};
use tracing::error;

/// A supervised task ended although it should run as long as the node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskFailure {
    /// The task returned.
    #[error("the {task} task ended unexpectedly")]
    Returned {
        /// The task's name.
        task: String,
    },
    /// The task panicked.
    #[error("the {task} task panicked: {message}")]
    Panicked {
        /// The task's name.
        task: String,
        /// The panic message.
        message: String,
    },
    /// The task was cancelled (aborted) from outside.
    #[error("the {task} task was cancelled")]
    Cancelled {
        /// The task's name.
        task: String,
    },
}

/// What `/readyz` asks: has a supervised task failed? Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct TaskHealth {
    failure: Arc<Mutex<Option<TaskFailure>>>,
}

impl TaskHealth {
    /// The first task failure, if any.
    pub fn failure(&self) -> Option<TaskFailure> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record(&self, failure: &TaskFailure) {
        let mut slot = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(failure.clone());
        }
    }
}

/// The node's long-lived tasks, by name.
#[derive(Debug, Default)]
pub struct TaskSupervisor {
    tasks: JoinSet<()>,
    names: HashMap<tokio::task::Id, String>,
    health: TaskHealth,
}

impl TaskSupervisor {
    /// No tasks yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `task` under the name `name`; it must never end.
    pub fn spawn(&mut self, name: &str, task: impl Future<Output = ()> + Send + 'static) {
        let handle = self.tasks.spawn(task);
        self.names.insert(handle.id(), name.to_owned());
    }

    /// The health handle `/readyz` reads.
    pub fn health(&self) -> TaskHealth {
        self.health.clone()
    }

    /// Waits for the first task to end and reports it (logged, and recorded
    /// in [`TaskHealth`]). With no task at all it waits forever.
    pub async fn first_failure(&mut self) -> TaskFailure {
        let Some(outcome) = self.tasks.join_next_with_id().await else {
            return std::future::pending().await;
        };
        let failure = match outcome {
            Ok((id, ())) => TaskFailure::Returned {
                task: self.name_of(id),
            },
            Err(join_error) => self.failure_of(join_error),
        };
        error!(%failure, "a background task of the hub stopped: the node is no longer ready and exits");
        self.health.record(&failure);
        failure
    }

    fn name_of(&self, id: tokio::task::Id) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "unnamed".to_owned())
    }

    fn failure_of(&self, join_error: JoinError) -> TaskFailure {
        let task = self.name_of(join_error.id());
        if !join_error.is_panic() {
            return TaskFailure::Cancelled { task };
        }
        let payload = join_error.into_panic();
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned());
        TaskFailure::Panicked { task, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_task_is_reported_with_its_name_and_message() {
        let mut supervisor = TaskSupervisor::new();
        let health = supervisor.health();
        supervisor.spawn("forever", std::future::pending());
        supervisor.spawn("rollout driver", async {
            panic!("the rollout driver lost its way");
        });
        assert_eq!(health.failure(), None);
        let failure = supervisor.first_failure().await;
        assert_eq!(
            failure,
            TaskFailure::Panicked {
                task: "rollout driver".to_owned(),
                message: "the rollout driver lost its way".to_owned(),
            }
        );
        assert_eq!(health.failure(), Some(failure));
    }

    #[tokio::test]
    async fn a_task_that_returns_is_reported_too() {
        let mut supervisor = TaskSupervisor::new();
        let health = supervisor.health();
        supervisor.spawn("forever", std::future::pending());
        supervisor.spawn("git sync", async {});
        let failure = supervisor.first_failure().await;
        assert_eq!(
            failure,
            TaskFailure::Returned {
                task: "git sync".to_owned()
            }
        );
        assert_eq!(
            health.failure().map(|failure| failure.to_string()),
            Some("the git sync task ended unexpectedly".to_owned())
        );
    }
}
