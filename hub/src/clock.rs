//! Wall-clock time as the replicated state records it (Unix milliseconds).
//!
//! Only the node proposing a command reads the clock; the value travels in
//! the command, so applying the log stays deterministic.

/// Now, in Unix milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}
