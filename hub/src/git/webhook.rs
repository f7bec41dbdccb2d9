//! Verifying the Git webhook's signature (GitHub's `X-Hub-Signature-256`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying `sha256=<hex HMAC of the body>`.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Whether `header` is the HMAC-SHA256 of `body` under `secret` (constant time).
pub fn verify_signature(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(signature) = header.and_then(|value| value.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(signature) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn accepts_only_the_right_signature() {
        let header = sign(b"secret", b"{}");
        assert!(verify_signature(b"secret", b"{}", Some(&header)));
        assert!(!verify_signature(b"other", b"{}", Some(&header)));
        assert!(!verify_signature(b"secret", b"{ }", Some(&header)));
        assert!(!verify_signature(b"secret", b"{}", None));
        assert!(!verify_signature(b"secret", b"{}", Some("sha1=abc")));
    }
}
