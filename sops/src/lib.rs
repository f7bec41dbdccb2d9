//! SOPS (age) encrypted YAML manifests, read and decrypted in Rust.
//!
//! Fleet keeps Secrets in Git encrypted with [SOPS](https://getsops.io) to
//! age recipients. The hub only passes such files through as ciphertext; the
//! agent (and `fleetctl render --sops-age-key-file` for local debugging)
//! decrypts them with this crate:
//!
//! 1. [`SopsFile::parse`] reads a (multi-document) YAML file whose documents
//!    carry a top-level `sops:` block ([`SopsMetadata`]: age recipients,
//!    `lastmodified`, `mac`, `encrypted_regex` / `encrypted_suffix` /
//!    `unencrypted_regex` / `unencrypted_suffix`, `mac_only_encrypted`).
//! 2. [`SopsFile::decrypt`] unwraps the 32-byte data key with the first
//!    matching X25519 identity ([`AgeIdentities`]), decrypts every
//!    `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` value with AES-256-GCM (the
//!    additional data is the value's path of keys joined by `:` plus a
//!    trailing `:`, as SOPS builds it), and checks the MAC: SHA-512 over the
//!    plaintext values in document order (only the encrypted ones when
//!    `mac_only_encrypted`), compared with the stored MAC, itself encrypted
//!    with the data key and `lastmodified` as additional data.
//!
//! Not supported (refused with a clear error, never half-decrypted): key
//! groups / Shamir, comment-based rules (`encrypted_comment_regex`,
//! `unencrypted_comment_regex`), and master keys other than age.

mod envelope;
mod error;
mod identities;
mod metadata;
mod sops_file;
mod value_cipher;
mod walk;

pub use envelope::{
    SOPS_SOURCE_FIELD, envelope_file, envelope_sops_file, is_envelope, open_envelope,
};
pub use error::{Error, Result};
pub use identities::AgeIdentities;
pub use metadata::SopsMetadata;
pub use sops_file::{SopsFile, is_sops_document};
