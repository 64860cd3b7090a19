//! The SQLite database holds health data: its file is created readable and writable by the
//! service's user alone (SQLite gives its `-wal` and `-shm` files the database file's mode).

use std::path::Path;

/// Creates the database file at `path` (and any missing parent folders) for the owner only, when
/// it does not exist yet; an existing file that others may read is reported, not changed.
pub(crate) fn prepare_sqlite_file(path: &Path) -> std::io::Result<()> {
    if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        identity::create_private_folder(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            warn_if_others_may_read(path);
            Ok(())
        }
        Err(error) => Err(error),
    }
}

fn warn_if_others_may_read(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %path.display(),
                mode = format!("{:o}", metadata.permissions().mode() & 0o777),
                "the database file may be read by others than the service's user; chmod 600 it"
            );
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_new_database_file_and_its_folders_are_the_owners_alone() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("data/nested/pgo-exchange.db");
        prepare_sqlite_file(&path).expect("created");
        let mode = |path: &Path| std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("data")), 0o700);
        assert_eq!(mode(&dir.path().join("data/nested")), 0o700);
        // A second start leaves the file as it is.
        prepare_sqlite_file(&path).expect("exists");
        assert_eq!(mode(&path), 0o600);
    }
}
