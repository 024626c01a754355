//! A temporary folder of a test's own, removed at the end, for the tests
//! that run the command-line tool or write secret files.

use std::path::PathBuf;

/// A folder of its own, removed at the end.
pub struct Folder(pub PathBuf);

impl Folder {
    /// `foxreach-<name>-<pid>` in the temp folder, emptied first.
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("foxreach-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a temp folder");
        Self(path)
    }

    /// The path of `name` in the folder, as a string for command lines.
    pub fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("a UTF-8 temp path").to_owned()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
