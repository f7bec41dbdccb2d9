//! The identity's files in the state directory — certificate, key, CA and
//! `enrollment.json` — written as a set so that a process killed half-way
//! never leaves a key without its certificate (see [`super`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Credentials, EnrollError, Result, merge_endpoints};

/// File names in the state directory.
pub(super) const CERTIFICATE_FILE: &str = "agent.crt";
pub(super) const KEY_FILE: &str = "agent.key";
pub(super) const CA_FILE: &str = "ca.crt";
pub(super) const ENROLLMENT_FILE: &str = "enrollment.json";

/// What is kept besides the PEM files.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct EnrollmentRecord {
    pub(super) identity: String,
    pub(super) hub_endpoints: Vec<String>,
    pub(super) expires_at_ms: u64,
    #[serde(default)]
    pub(super) issued_at_ms: u64,
}

pub(super) fn read(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(EnrollError::File {
            path: path.to_owned(),
            source,
        }),
    }
}

pub(super) fn load(directory: &Path, configured: &[String]) -> Result<Option<Credentials>> {
    finish_interrupted_store(directory)?;
    let (Some(certificate_pem), Some(key_pem), Some(ca_pem)) = (
        read(&directory.join(CERTIFICATE_FILE))?,
        read(&directory.join(KEY_FILE))?,
        read(&directory.join(CA_FILE))?,
    ) else {
        return Ok(None);
    };
    let record_path = directory.join(ENROLLMENT_FILE);
    let record: EnrollmentRecord = match read(&record_path)? {
        Some(text) => serde_json::from_str(&text).map_err(|source| EnrollError::Record {
            path: record_path,
            source,
        })?,
        None => EnrollmentRecord::default(),
    };
    Ok(Some(Credentials {
        certificate_pem,
        key_pem,
        ca_pem,
        hub_endpoints: merge_endpoints(configured, &record.hub_endpoints),
        expires_at_ms: record.expires_at_ms,
        issued_at_ms: record.issued_at_ms,
    }))
}

/// Writes `text` to `path`, readable by the owner only.
pub(super) fn write_private(path: &Path, text: &str) -> Result<()> {
    let error = |source| EnrollError::File {
        path: path.to_owned(),
        source,
    };
    let temporary = path.with_extension("tmp");
    // A leftover temporary file keeps its mode when opened: start afresh so
    // the key is 0600 from its first byte.
    match std::fs::remove_file(&temporary) {
        Ok(()) => {}
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(error(source)),
    }
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temporary).map_err(error)?;
        file.write_all(text.as_bytes()).map_err(error)?;
        file.sync_all().map_err(error)?;
    }
    std::fs::rename(&temporary, path).map_err(error)
}

/// The state files in the order a store writes and renames them: the
/// certificate last, so its presence means "a complete set".
const STORED: [&str; 4] = [KEY_FILE, CA_FILE, ENROLLMENT_FILE, CERTIFICATE_FILE];

/// Where a file is staged before it replaces `name`.
fn staged(directory: &Path, name: &str) -> PathBuf {
    directory.join(format!("{name}.new"))
}

pub(super) fn store(
    directory: &Path,
    credentials: &Credentials,
    record: &EnrollmentRecord,
) -> Result<()> {
    let record_path = directory.join(ENROLLMENT_FILE);
    let record_text =
        serde_json::to_string_pretty(record).map_err(|source| EnrollError::Record {
            path: record_path.clone(),
            source,
        })?;
    for name in STORED {
        let text = match name {
            KEY_FILE => &credentials.key_pem,
            CA_FILE => &credentials.ca_pem,
            ENROLLMENT_FILE => &record_text,
            _ => &credentials.certificate_pem,
        };
        write_private(&staged(directory, name), text)?;
    }
    finish_interrupted_store(directory)
}

/// Completes a store whose staging finished (`agent.crt.new` exists), or
/// removes what a store killed while staging left behind.
fn finish_interrupted_store(directory: &Path) -> Result<()> {
    let staging_finished = staged(directory, CERTIFICATE_FILE).exists();
    for name in STORED {
        let from = staged(directory, name);
        let outcome = if staging_finished {
            std::fs::rename(&from, directory.join(name))
        } else {
            std::fs::remove_file(&from)
        };
        match outcome {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(EnrollError::File { path: from, source }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_key_is_private_from_its_first_byte_even_over_a_readable_leftover() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join(KEY_FILE);
        let leftover = path.with_extension("tmp");
        std::fs::write(&leftover, "half a key").unwrap();
        std::fs::set_permissions(&leftover, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, "KEY").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "KEY");
    }

    #[test]
    fn stored_files_are_private_and_load_back() {
        let directory = tempfile::tempdir().unwrap();
        let credentials = Credentials {
            certificate_pem: "CERT".into(),
            key_pem: "KEY".into(),
            ca_pem: "CA".into(),
            hub_endpoints: vec!["https://a:1".into()],
            expires_at_ms: 5,
            issued_at_ms: 2,
        };
        let record = EnrollmentRecord {
            identity: "spiffe://fleet/cluster/x".into(),
            hub_endpoints: vec!["https://b:2".into()],
            expires_at_ms: 5,
            issued_at_ms: 2,
        };
        store(directory.path(), &credentials, &record).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(directory.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = load(directory.path(), &["https://a:1".into()])
            .unwrap()
            .unwrap();
        assert_eq!(loaded.key_pem, "KEY");
        assert_eq!(loaded.hub_endpoints, ["https://a:1", "https://b:2"]);
    }

    fn identity(name: &str) -> (Credentials, EnrollmentRecord) {
        let credentials = Credentials {
            certificate_pem: format!("CERT {name}"),
            key_pem: format!("KEY {name}"),
            ca_pem: "CA".into(),
            hub_endpoints: Vec::new(),
            expires_at_ms: 5,
            issued_at_ms: 2,
        };
        let record = EnrollmentRecord {
            identity: "spiffe://fleet/cluster/x".into(),
            ..EnrollmentRecord::default()
        };
        (credentials, record)
    }

    #[test]
    fn a_store_killed_half_way_never_leaves_a_key_without_its_certificate() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path();
        let (old, record) = identity("old");
        store(path, &old, &record).unwrap();
        let (new, _) = identity("new");

        // Killed while staging: the old set stays, the stray is removed.
        write_private(&staged(path, KEY_FILE), &new.key_pem).unwrap();
        let loaded = load(path, &[]).unwrap().unwrap();
        assert_eq!(
            (loaded.key_pem.as_str(), loaded.certificate_pem.as_str()),
            ("KEY old", "CERT old")
        );
        assert!(!staged(path, KEY_FILE).exists());

        // Killed while renaming: the new set is completed.
        let record_text = serde_json::to_string(&record).unwrap();
        for (name, text) in [
            (KEY_FILE, &new.key_pem),
            (CA_FILE, &new.ca_pem),
            (ENROLLMENT_FILE, &record_text),
            (CERTIFICATE_FILE, &new.certificate_pem),
        ] {
            write_private(&staged(path, name), text).unwrap();
        }
        std::fs::rename(staged(path, KEY_FILE), path.join(KEY_FILE)).unwrap();
        let loaded = load(path, &[]).unwrap().unwrap();
        assert_eq!(
            (loaded.key_pem.as_str(), loaded.certificate_pem.as_str()),
            ("KEY new", "CERT new")
        );
        assert!(!staged(path, CERTIFICATE_FILE).exists());
    }
}
