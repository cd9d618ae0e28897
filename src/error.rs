//! Error types of the library.

use std::path::PathBuf;

/// A problem with one input path. The run goes on without it.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The path could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A folder could not be walked (permission, symbolic link loop, ...).
    #[error("{}: {message}", path.display())]
    Walk {
        /// The path concerned.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The file holds a NUL byte: it is not text.
    #[error("{}: binary file (NUL byte at offset {offset}), skipped", path.display())]
    Binary {
        /// The path concerned.
        path: PathBuf,
        /// Offset of the first NUL byte.
        offset: u64,
    },
    /// The file is larger than the limit (`--max-file-size`).
    #[error("{}: file of {size} bytes is larger than the limit of {limit} bytes (--max-file-size), skipped", path.display())]
    TooLarge {
        /// The path concerned.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// The run's temporary file could not be written or read back.
    #[error("{}: {message}", path.display())]
    Spill {
        /// The folder of the temporary file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl LoadError {
    /// The path the problem concerns.
    pub fn path(&self) -> &std::path::Path {
        match self {
            LoadError::Io { path, .. }
            | LoadError::Walk { path, .. }
            | LoadError::Binary { path, .. }
            | LoadError::TooLarge { path, .. }
            | LoadError::Spill { path, .. } => path,
        }
    }
}

/// An invalid configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A parameter is out of its range.
    #[error("{name} must be {expected}, got {got}")]
    OutOfRange {
        /// The parameter's name as on the command line.
        name: &'static str,
        /// The allowed range, in words.
        expected: &'static str,
        /// The value given.
        got: String,
    },
}

/// Why two articles could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// An invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// One of the files could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
}
