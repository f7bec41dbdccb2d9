//! The Raft log, the vote and the committed log id, in redb.
//!
//! Every write is its own redb transaction committed with immediate
//! durability (fsync) before the call returns, which also serializes the
//! writes as openraft requires.

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{LogId, LogState, OptionalSend, RaftLogReader, StorageError, StorageIOError, Vote};
use redb::{ReadableDatabase, ReadableTable};

use super::database::{
    COMMITTED_KEY, LAST_PURGED_KEY, LOG_META_TABLE, LOG_TABLE, StoreFile, VOTE_KEY, decode, encode,
    read_json, run_blocking, write_json,
};
use super::{LogEntry, NodeId, StoreError, TypeConfig};

/// The redb-backed Raft log of one hub node; cloning it is cheap and clones
/// read the same log (openraft uses clones as log readers).
#[derive(Debug, Clone)]
pub struct LogStore {
    database: Arc<StoreFile>,
}

impl LogStore {
    /// A log store over an opened hub Raft database.
    pub(crate) fn new(database: Arc<StoreFile>) -> Self {
        Self { database }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    #[tracing::instrument(level = "trace", skip(self))]
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<LogEntry>, StorageError<NodeId>> {
        let bounds: (Bound<u64>, Bound<u64>) =
            (range.start_bound().cloned(), range.end_bound().cloned());
        run_blocking(&self.database, move |database| {
            let transaction = database.begin_read()?;
            let table = transaction.open_table(LOG_TABLE)?;
            let mut entries = Vec::new();
            for item in table.range::<u64>(bounds)? {
                let (_, value) = item?;
                entries.push(decode::<LogEntry>(value.value(), "log entry")?);
            }
            Ok(entries)
        })
        .await
        .map_err(read_logs)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        run_blocking(&self.database, |database| {
            let last_purged_log_id: Option<LogId<NodeId>> = read_json(
                database,
                LOG_META_TABLE,
                LAST_PURGED_KEY,
                "last purged log id",
            )?;
            let transaction = database.begin_read()?;
            let table = transaction.open_table(LOG_TABLE)?;
            let last_log_id = match table.last()? {
                Some((_, value)) => Some(decode::<LogEntry>(value.value(), "log entry")?.log_id),
                None => last_purged_log_id,
            };
            Ok(LogState {
                last_purged_log_id,
                last_log_id,
            })
        })
        .await
        .map_err(read_logs)
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        let vote = *vote;
        run_blocking(&self.database, move |database| {
            write_json(database, LOG_META_TABLE, VOTE_KEY, Some(&vote), "vote")
        })
        .await
        .map_err(|error| StorageIOError::write_vote(&error).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        run_blocking(&self.database, |database| {
            read_json(database, LOG_META_TABLE, VOTE_KEY, "vote")
        })
        .await
        .map_err(|error| StorageIOError::read_vote(&error).into())
    }

    #[tracing::instrument(level = "trace", skip(self))]
    async fn save_committed(
        &mut self,
        committed: Option<LogId<NodeId>>,
    ) -> Result<(), StorageError<NodeId>> {
        run_blocking(&self.database, move |database| {
            write_json(
                database,
                LOG_META_TABLE,
                COMMITTED_KEY,
                committed.as_ref(),
                "committed log id",
            )
        })
        .await
        .map_err(write_logs)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        run_blocking(&self.database, |database| {
            read_json(database, LOG_META_TABLE, COMMITTED_KEY, "committed log id")
        })
        .await
        .map_err(read_logs)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = LogEntry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let encoded = entries
            .into_iter()
            .map(|entry| Ok((entry.log_id.index, encode(&entry, "log entry")?)))
            .collect::<Result<Vec<_>, StoreError>>()
            .map_err(write_logs)?;
        let result = run_blocking(&self.database, move |database| {
            let transaction = database.begin_write()?;
            {
                let mut table = transaction.open_table(LOG_TABLE)?;
                for (index, bytes) in &encoded {
                    table.insert(index, bytes.as_slice())?;
                }
            }
            // Immediate durability: when commit returns, the entries are on disk.
            transaction.commit()?;
            Ok(())
        })
        .await;
        match result {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(error) => {
                callback.log_io_completed(Err(std::io::Error::other(error.to_string())));
                Err(write_logs(error))
            }
        }
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        run_blocking(&self.database, move |database| {
            let transaction = database.begin_write()?;
            {
                let mut table = transaction.open_table(LOG_TABLE)?;
                table.retain_in(log_id.index.., |_, _| false)?;
            }
            transaction.commit()?;
            Ok(())
        })
        .await
        .map_err(write_logs)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        run_blocking(&self.database, move |database| {
            let transaction = database.begin_write()?;
            {
                // Record the purge point and drop the entries in one
                // transaction, so a crash never leaves a hole.
                let mut meta = transaction.open_table(LOG_META_TABLE)?;
                meta.insert(
                    LAST_PURGED_KEY,
                    encode(&log_id, "last purged log id")?.as_slice(),
                )?;
                let mut table = transaction.open_table(LOG_TABLE)?;
                table.retain_in(..=log_id.index, |_, _| false)?;
            }
            transaction.commit()?;
            Ok(())
        })
        .await
        .map_err(write_logs)
    }
}

fn read_logs(error: StoreError) -> StorageError<NodeId> {
    StorageIOError::read_logs(&error).into()
}

fn write_logs(error: StoreError) -> StorageError<NodeId> {
    StorageIOError::write_logs(&error).into()
}
