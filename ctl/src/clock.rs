//! Wall-clock time as the hub reports it (Unix milliseconds), for "started
//! 5s ago" and "expires in" in fleetctl's human output.

/// Now, in Unix milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}
