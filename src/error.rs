//! The crate's one error type.
//!
//! [`Error`] is opaque: match on [`Error::kind`], read the message through
//! `Display`. Every message names the values that were wrong, for example
//! `shapes differ: a is 1024×1024, b is 1024×1000`.

use std::fmt;

/// What went wrong, for code that wants to react to it.
///
/// New kinds may be added without a major version bump.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Two inputs that must have the same shape do not (or inner dimensions of a
    /// product do not match).
    ShapeMismatch,
    /// A thread count of zero, or a thread pool that could not be built.
    Threads,
    /// An argument outside its valid range (an empty sample set, a negative size, …).
    InvalidInput,
    /// Outputs of two kernels disagree beyond the tolerance.
    Mismatch,
    /// A file could not be read or written.
    Io,
    /// A file was read but its content is malformed or from another format version.
    Format,
    /// A closure under measurement panicked.
    Panicked,
    /// A feature is not available on this platform or build.
    Unsupported,
    /// A chart could not be drawn.
    Plot,
}

/// The error returned by every fallible function in parlab.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// `Result` with parlab's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a message that names the values involved.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attach the underlying cause (an I/O or parse error).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without the source chain.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `shapes differ: a is 1024×1024, b is 1024×1000`.
    pub(crate) fn shapes(what: &str, a_name: &str, a: &[usize], b_name: &str, b: &[usize]) -> Self {
        Error::new(
            ErrorKind::ShapeMismatch,
            format!(
                "{what}: {a_name} is {}, {b_name} is {}",
                fmt_shape(a),
                fmt_shape(b)
            ),
        )
    }

    pub(crate) fn zero_threads() -> Self {
        Error::new(ErrorKind::Threads, "thread count must be at least 1, got 0")
    }
}

/// Formats a shape as `1024×1000` (a scalar shape `[]` as `scalar`).
pub fn fmt_shape(shape: &[usize]) -> String {
    if shape.is_empty() {
        return "scalar".to_string();
    }
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("×")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_message_names_both_shapes() {
        let e = Error::shapes("shapes differ", "a", &[1024, 1024], "b", &[1024, 1000]);
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
        assert_eq!(
            e.to_string(),
            "shapes differ: a is 1024×1024, b is 1024×1000"
        );
    }

    #[test]
    fn source_is_chained_in_display() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::new(ErrorKind::Io, "cannot read results.json").with_source(io);
        assert_eq!(e.to_string(), "cannot read results.json: no such file");
        assert!(std::error::Error::source(&e).is_some());
    }
}
