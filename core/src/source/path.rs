//! Repository-relative paths and the rule that nothing may leave the repository.

/// Joins `relative` onto the repository-relative directory `base` and
/// normalizes `.` and `..` lexically. Returns `None` when the result would
/// leave the repository root or `relative` is absolute — GitOps tools have been
/// exploited through exactly such paths (symlinks and `../` in manifests).
pub fn normalize_within(base: &str, relative: &str) -> Option<String> {
    if relative.starts_with('/') || relative.starts_with('\\') {
        return None;
    }
    let mut parts: Vec<&str> = base.split('/').filter(|part| !part.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// Why `name` is not one normal path component, or `None` when it is.
///
/// A Git tree entry name comes straight from the object database, and
/// `git hash-object --literally` writes trees with any bytes in them: a name
/// like `../x`, `/etc/cron.d/x` or `.git` would make an export write outside
/// its directory (or into Git's own files). Every entry name must be one
/// plain component.
pub fn unsafe_component(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name == "." || name == ".." {
        Some("is '.' or '..'")
    } else if name.contains('/') || name.contains('\\') {
        Some("contains a path separator")
    } else if name.contains('\0') {
        Some("contains a NUL byte")
    } else if name.eq_ignore_ascii_case(".git") {
        Some("is '.git'")
    } else {
        None
    }
}

/// The directory part of a repository-relative path (`""` at the root).
pub(crate) fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |position| &path[..position])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_inside_the_repository() {
        assert_eq!(
            normalize_within("apps/web/overlays/prod", "../../base"),
            Some("apps/web/base".into())
        );
        assert_eq!(
            normalize_within("apps/web", "./a/./b.yaml"),
            Some("apps/web/a/b.yaml".into())
        );
        assert_eq!(normalize_within("apps/web", "../../.."), None);
        assert_eq!(normalize_within("apps", "/etc/passwd"), None);
        assert_eq!(parent("apps/web/app.yaml"), "apps/web");
        assert_eq!(parent("fleet.yaml"), "");
    }

    #[test]
    fn only_plain_components_are_entry_names() {
        for bad in [
            "", ".", "..", "../x", "/abs", "a\\b", "a\0b", ".git", ".GIT", ".Git",
        ] {
            assert!(unsafe_component(bad).is_some(), "{bad:?} must be refused");
        }
        for good in ["app.yaml", ".gitignore", "..x", "x..", ".github", "git"] {
            assert_eq!(unsafe_component(good), None, "{good:?} must be accepted");
        }
    }
}
