//! openraft's own storage conformance suite against the redb stores.

use openraft::testing::{StoreBuilder, Suite};
use openraft::{StorageError, StorageIOError};
use tempfile::TempDir;

use crate::raft::database::{self, DATABASE_FILE};
use crate::raft::{LogStore, NodeId, StateMachineStore, TypeConfig};

/// Builds each suite case's stores in a fresh temporary directory (removed
/// when the case's guard drops).
struct TempDirStoreBuilder;

impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, TempDir> for TempDirStoreBuilder {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachineStore), StorageError<NodeId>> {
        let directory = tempfile::tempdir().map_err(|error| StorageIOError::write(&error))?;
        let database = database::open(&directory.path().join(DATABASE_FILE))
            .map_err(|error| StorageIOError::write(&error))?;
        let log_store = LogStore::new(database.clone());
        let state_machine = StateMachineStore::open(database)
            .await
            .map_err(|error| StorageIOError::read_state_machine(&error))?;
        Ok((directory, log_store, state_machine))
    }
}

// A plain #[test]: the suite makes its own tokio runtime per case.
#[test]
fn redb_stores_pass_the_openraft_conformance_suite() {
    Suite::test_all(TempDirStoreBuilder).expect("every conformance case passes");
}
