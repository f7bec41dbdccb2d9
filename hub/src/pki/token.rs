//! Single-use secrets (bootstrap and join tokens): 32 random bytes, shown once, stored only as a hash.

use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

/// Prefixes that make tokens recognisable in logs and secret scanners.
const TOKEN_PREFIX: &str = "fleet-bootstrap-";
const JOIN_TOKEN_PREFIX: &str = "fleet-join-";

/// A freshly minted single-use secret: shown once, stored only as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretToken {
    /// The secret, as given to the operator.
    pub secret: String,
    /// sha256 of the secret, hex: what the state stores.
    pub hash: String,
}

impl SecretToken {
    /// A bootstrap token that enrolls an agent.
    pub fn bootstrap() -> Result<Self, ring::error::Unspecified> {
        Self::generate(TOKEN_PREFIX)
    }

    /// A join token that admits a new hub node.
    pub fn join() -> Result<Self, ring::error::Unspecified> {
        Self::generate(JOIN_TOKEN_PREFIX)
    }

    /// 32 bytes from the operating system's secure random source.
    fn generate(prefix: &str) -> Result<Self, ring::error::Unspecified> {
        let mut bytes = [0_u8; 32];
        SystemRandom::new().fill(&mut bytes)?;
        let secret = format!("{prefix}{}", hex::encode(bytes));
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
        let first = SecretToken::bootstrap().unwrap();
        let second = SecretToken::bootstrap().unwrap();
        assert_ne!(first.secret, second.secret);
        assert_eq!(first.secret.len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(hash_token(&first.secret), first.hash);
        assert!(!first.hash.contains(&first.secret));
    }
}
