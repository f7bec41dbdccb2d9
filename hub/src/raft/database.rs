//! The redb file both Raft stores live in: its tables, opening it, and
//! running its blocking I/O off the async runtime.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::watch;

use redb::{Database, ReadableDatabase, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{RaftError, StoreError};

/// Log entries by index; values are JSON-encoded [`super::LogEntry`]s.
pub(crate) const LOG_TABLE: TableDefinition<u64, &[u8]> = TableDefinition::new("raft_log");

/// The log's bookkeeping by key ([`VOTE_KEY`], [`COMMITTED_KEY`],
/// [`LAST_PURGED_KEY`]); values are JSON.
pub(crate) const LOG_META_TABLE: TableDefinition<&str, &[u8]> =
    TableDefinition::new("raft_log_meta");

/// The current snapshot: [`SNAPSHOT_META_KEY`] (JSON `SnapshotMeta`) and
/// [`SNAPSHOT_DATA_KEY`] (the snapshot's bytes).
pub(crate) const SNAPSHOT_TABLE: TableDefinition<&str, &[u8]> =
    TableDefinition::new("raft_snapshot");

/// Key of the last vote in [`LOG_META_TABLE`].
pub(crate) const VOTE_KEY: &str = "vote";
/// Key of the last committed log id in [`LOG_META_TABLE`].
pub(crate) const COMMITTED_KEY: &str = "committed";
/// Key of the last purged log id in [`LOG_META_TABLE`].
pub(crate) const LAST_PURGED_KEY: &str = "last_purged";
/// Key of the current snapshot's metadata in [`SNAPSHOT_TABLE`].
pub(crate) const SNAPSHOT_META_KEY: &str = "meta";
/// Key of the current snapshot's bytes in [`SNAPSHOT_TABLE`].
pub(crate) const SNAPSHOT_DATA_KEY: &str = "data";

/// Name of the redb file inside the hub's Raft data directory.
pub(crate) const DATABASE_FILE: &str = "raft.redb";

/// The opened redb file, shared by the log store and the state machine.
#[derive(Debug)]
pub(crate) struct StoreFile {
    database: Database,
    /// Dropped right after `database` (fields drop in declaration order):
    /// receivers from [`StoreFile::closed`] then know the file is closed and
    /// may be opened again.
    open: watch::Sender<()>,
}

impl StoreFile {
    /// The redb database.
    pub(crate) fn database(&self) -> &Database {
        &self.database
    }

    /// A receiver whose `changed()` fails once this file is closed.
    pub(crate) fn closed(&self) -> watch::Receiver<()> {
        self.open.subscribe()
    }
}

/// Opens (or creates) the redb file at `path` and makes sure every table
/// exists, so that read transactions never meet a missing table.
pub(crate) fn open(path: &Path) -> Result<Arc<StoreFile>, RaftError> {
    let database = Database::create(path).map_err(|source| RaftError::OpenDatabase {
        path: path.to_owned(),
        source,
    })?;
    create_tables(&database).map_err(|source| RaftError::LoadStore {
        path: path.to_owned(),
        source,
    })?;
    Ok(Arc::new(StoreFile {
        database,
        open: watch::Sender::new(()),
    }))
}

fn create_tables(database: &Database) -> Result<(), StoreError> {
    let transaction = database.begin_write()?;
    transaction.open_table(LOG_TABLE)?;
    transaction.open_table(LOG_META_TABLE)?;
    transaction.open_table(SNAPSHOT_TABLE)?;
    transaction.commit()?;
    Ok(())
}

/// Runs `work` on tokio's blocking pool: redb reads and fsyncing commits are
/// blocking I/O and must not stall the runtime's worker threads.
pub(crate) async fn run_blocking<T, F>(file: &Arc<StoreFile>, work: F) -> Result<T, StoreError>
where
    F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let file = Arc::clone(file);
    tokio::task::spawn_blocking(move || work(file.database()))
        .await
        .map_err(StoreError::Task)?
}

/// Reads the JSON value under `key` of a key/value table, if any.
pub(crate) fn read_json<T: DeserializeOwned>(
    database: &Database,
    table: TableDefinition<&str, &[u8]>,
    key: &str,
    what: &'static str,
) -> Result<Option<T>, StoreError> {
    let transaction = database.begin_read()?;
    let table = transaction.open_table(table)?;
    let Some(value) = table.get(key)? else {
        return Ok(None);
    };
    decode(value.value(), what).map(Some)
}

/// Writes (durably) `value` as JSON under `key` of a key/value table, or
/// removes the key when `value` is `None`.
pub(crate) fn write_json<T: Serialize>(
    database: &Database,
    table: TableDefinition<&str, &[u8]>,
    key: &str,
    value: Option<&T>,
    what: &'static str,
) -> Result<(), StoreError> {
    let transaction = database.begin_write()?;
    {
        let mut table = transaction.open_table(table)?;
        match value {
            Some(value) => {
                table.insert(key, encode(value, what)?.as_slice())?;
            }
            None => {
                table.remove(key)?;
            }
        }
    }
    transaction.commit()?;
    Ok(())
}

/// Serializes `value` as JSON.
pub(crate) fn encode<T: Serialize + ?Sized>(
    value: &T,
    what: &'static str,
) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|source| StoreError::Encode { what, source })
}

/// Deserializes JSON `bytes`.
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Decode { what, source })
}
