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
}
