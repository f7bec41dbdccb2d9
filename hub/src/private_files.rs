//! Files `fleet-hub init` and `init --join` write: private ones (keys, the
//! webhook secret) are created with mode 0600 from the first byte, never
//! written first and restricted after; the hub's folder is 0700.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// Creates `directory` (and its parents) and makes it 0700: only the hub's
/// user may list or open what is in it.
pub fn create_private_directory(directory: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(directory)
        .with_context(|| format!("creating {}", directory.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(directory, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {} to its owner", directory.display()))?;
    }
    Ok(())
}

/// Writes `text` to `path`. A `private` file is created 0600 (a file left
/// at `path` by an earlier, failed run is removed first, since opening an
/// existing file keeps its mode); others are 0644.
pub fn write_file(path: &Path, text: &str, private: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if private {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| format!("replacing {}", path.display()));
            }
        }
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600_even_over_a_readable_leftover() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().unwrap();
        let folder = directory.path().join("hub");
        create_private_directory(&folder).unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        let key = folder.join("ca.key");
        std::fs::write(&key, "old").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_file(&key, "secret", true).unwrap();
        assert_eq!(mode(&key), 0o600);
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "secret");
        let certificate = folder.join("ca.crt");
        write_file(&certificate, "public", false).unwrap();
        assert_eq!(mode(&certificate), 0o644);
    }
}
