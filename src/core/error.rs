//! Errors as Emacs signals them: an error symbol, its data list, and the errno behind it.

use std::fmt;
use std::io;

use super::value::Value;

/// An Emacs-style error: `(SYMBOL . DATA)` plus the errno that caused it, if any.
#[derive(Clone, Debug)]
pub struct Error {
    /// The error symbol: `error`, `file-error`, `file-missing`, `wrong-type-argument`, …
    pub symbol: &'static str,
    /// The data list Emacs would signal with.
    pub data: Vec<Value>,
    /// The operating-system error number, or 0.
    pub errno: i32,
}

/// Every error symbol netproc signals, with the message Emacs gives it.
const ERROR_MESSAGES: &[(&str, &str)] = &[
    ("wrong-type-argument", "Wrong type argument"),
    ("args-out-of-range", "Args out of range"),
    ("coding-system-error", "Invalid coding system"),
    ("file-missing", ""),
    ("file-error", ""),
    ("file-already-exists", ""),
    ("netproc-panic", "netproc internal error"),
];

impl Error {
    /// `(error MESSAGE)`.
    pub fn msg(message: impl Into<String>) -> Error {
        Error { symbol: "error", data: vec![Value::string(message.into())], errno: 0 }
    }

    /// `(wrong-type-argument PREDICATE VALUE)`.
    pub fn wrong_type(predicate: &str, value: &Value) -> Error {
        Error { symbol: "wrong-type-argument", data: vec![Value::symbol(predicate), value.clone()], errno: 0 }
    }

    /// `(file-error CONTEXT STRERROR . EXTRA)`, refined to `file-missing` for ENOENT and
    /// `file-already-exists` for EEXIST, as Emacs's `report_file_errno` does.
    pub fn file(context: &str, err: &io::Error, extra: Vec<Value>) -> Error {
        let errno = err.raw_os_error().unwrap_or(0);
        let symbol = match errno {
            libc::ENOENT => "file-missing",
            libc::EEXIST => "file-already-exists",
            _ => "file-error",
        };
        let mut data = vec![Value::string(context), Value::string(strerror(errno))];
        data.extend(extra);
        Error { symbol, data, errno }
    }

    /// An error for a panic caught at a boundary.
    pub fn panic(what: &str) -> Error {
        Error { symbol: "netproc-panic", data: vec![Value::string(what)], errno: 0 }
    }

    /// Whether the symbol has `file-error` among its conditions.
    pub fn is_file_error(&self) -> bool {
        matches!(self.symbol, "file-error" | "file-missing" | "file-already-exists")
    }

    /// The text `error-message-string` shows for this error.
    pub fn message(&self) -> String {
        let (head, rest): (String, &[Value]) = if self.symbol == "error" || self.is_file_error() {
            match self.data.split_first() {
                Some((first, rest)) => (first.princ(), rest),
                None => ("peculiar error".into(), &[]),
            }
        } else {
            let head = ERROR_MESSAGES
                .iter()
                .find(|(symbol, _)| *symbol == self.symbol)
                .map(|(_, message)| (*message).to_string())
                .unwrap_or_else(|| "peculiar error".into());
            (head, &self.data[..])
        };
        let mut text = head;
        for (index, item) in rest.iter().enumerate() {
            text.push_str(if index == 0 { ": " } else { ", " });
            // file errors print their data with princ, everything else with prin1.
            text.push_str(&if self.is_file_error() { item.princ() } else { item.prin1() });
        }
        text
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

/// The C library's text for an errno, as Emacs shows it.
pub fn strerror(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    // std appends " (os error N)"; Emacs shows strerror's text alone.
    match text.rfind(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// Shorthand for results in the core.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_error_message_string() {
        assert_eq!(Error::msg("Unsupported connection type").message(), "Unsupported connection type");
        assert_eq!(Error::wrong_type("stringp", &Value::Int(5)).message(), "Wrong type argument: stringp, 5");
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        let err = Error::file(
            "make client process failed",
            &refused,
            vec![Value::symbol(":name"), Value::string("x")],
        );
        assert_eq!(err.symbol, "file-error");
        assert_eq!(err.errno, libc::ECONNREFUSED);
        assert_eq!(err.message(), "make client process failed: Connection refused, :name, x");
        let missing = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(Error::file("c", &missing, vec![]).symbol, "file-missing");
    }
}
