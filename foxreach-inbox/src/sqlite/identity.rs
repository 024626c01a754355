//! Whether the inbox's files are still the ones this process opened.
//!
//! SQLite keeps writing to the files it opened, also once they are deleted
//! or replaced under it (a clean-up script, a volume mounted again): every
//! later commit then goes where the next start will not find it. Appends
//! check first and are refused (`503`) instead of answered `202`.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

/// The database file and its `-wal` and `-shm` companions, as opened.
#[derive(Debug)]
pub(super) struct Identity {
    files: Vec<(PathBuf, FileId)>,
}

/// What tells one file from another at the same path: its device and inode
/// on Unix; elsewhere only that it exists.
#[cfg(unix)]
#[derive(Debug, PartialEq, Eq)]
struct FileId(u64, u64);
#[cfg(not(unix))]
#[derive(Debug, PartialEq, Eq)]
struct FileId;

impl FileId {
    fn of(path: &Path) -> io::Result<Self> {
        let metadata = std::fs::metadata(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Ok(Self(metadata.dev(), metadata.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            Ok(Self)
        }
    }
}

impl Identity {
    /// The files at `path` now: the database, and its `-wal` and `-shm`
    /// files (which exist while a connection has the inbox open in WAL mode).
    pub(super) fn of(path: &Path) -> io::Result<Self> {
        let mut files = vec![(path.to_owned(), FileId::of(path)?)];
        for suffix in ["-wal", "-shm"] {
            let mut companion = OsString::from(path.as_os_str());
            companion.push(suffix);
            let companion = PathBuf::from(companion);
            if let Ok(id) = FileId::of(&companion) {
                files.push((companion, id));
            }
        }
        Ok(Self { files })
    }

    /// `Err` naming the first file that is gone or is another one now.
    pub(super) fn check(&self) -> Result<(), String> {
        for (path, id) in &self.files {
            match FileId::of(path) {
                Ok(now) if now == *id => {}
                Ok(_) => return Err(format!("{} was replaced since the inbox opened it", path.display())),
                Err(error) => return Err(format!("{} is gone since the inbox opened it ({error})", path.display())),
            }
        }
        Ok(())
    }
}
