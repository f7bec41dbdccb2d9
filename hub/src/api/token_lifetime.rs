//! The lifetime operators may ask for a token (bootstrap or join).

use tonic::Status;

/// `requested` seconds (0 = `default`), refused above `max`; `what` names
/// the token in the error.
pub fn token_lifetime(requested: u64, default: u64, max: u64, what: &str) -> Result<u64, Status> {
    match requested {
        0 => Ok(default),
        seconds if seconds > max => Err(Status::invalid_argument(format!(
            "{what} may live at most {max} seconds"
        ))),
        seconds => Ok(seconds),
    }
}
