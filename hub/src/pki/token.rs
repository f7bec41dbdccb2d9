//! Bootstrap tokens: 32 random bytes, shown once, stored only as a hash.

use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

/// The prefix that makes a token recognisable in logs and secret scanners.
const TOKEN_PREFIX: &str = "fleet-bootstrap-";

/// A freshly minted bootstrap token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapToken {
    /// The secret, as given to the operator.
    pub secret: String,
    /// sha256 of the secret, hex: what the state stores.
    pub hash: String,
}

impl BootstrapToken {
    /// Mints a token from the operating system's secure random source.
    pub fn generate() -> Result<Self, ring::error::Unspecified> {
        let mut bytes = [0_u8; 32];
        SystemRandom::new().fill(&mut bytes)?;
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
        let hash = hash_token(&secret);
        Ok(Self { secret, hash })
    }
}

/// A freshly minted join token for a new hub node (same strength and
/// storage as bootstrap tokens, a different prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinToken {
    /// The secret, as given to the operator.
    pub secret: String,
    /// sha256 of the secret, hex: what the state stores.
    pub hash: String,
}

/// The prefix of join tokens.
const JOIN_TOKEN_PREFIX: &str = "fleet-join-";

impl JoinToken {
    /// Mints a join token from the operating system's secure random source.
    pub fn generate() -> Result<Self, ring::error::Unspecified> {
        let mut bytes = [0_u8; 32];
        SystemRandom::new().fill(&mut bytes)?;
        let secret = format!("{JOIN_TOKEN_PREFIX}{}", hex::encode(bytes));
        let hash = hash_token(&secret);
        Ok(Self { secret, hash })
    }
}

/// sha256 of a presented token, hex.
pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let first = BootstrapToken::generate().unwrap();
        let second = BootstrapToken::generate().unwrap();
        assert_ne!(first.secret, second.secret);
        assert_eq!(first.secret.len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(hash_token(&first.secret), first.hash);
        assert!(!first.hash.contains(&first.secret));
    }
}
