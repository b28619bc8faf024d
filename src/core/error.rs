//! Errors as Emacs signals them: an error symbol, its data list, and the errno behind it.

use std::fmt;
use std::io;

use super::value::Value;

/// Declares [`Symbol`]: each error symbol netproc signals, once, with its Lisp name and
/// the message Emacs's `error-message-string` shows for it (empty where the message is the
/// error's first datum).
macro_rules! error_symbols {
    ($($variant:ident => $name:literal, $message:literal;)*) => {
        /// An error symbol netproc signals. A misspelt one does not compile.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Symbol {
            $(#[doc = concat!("`", $name, "`")] $variant,)*
        }

        impl Symbol {
            /// Every symbol, in declaration order.
            pub const ALL: &'static [Symbol] = &[$(Symbol::$variant,)*];

            /// The symbol's Lisp name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Symbol::$variant => $name,)*
                }
            }

            /// The symbol's `error-message`, which Emacs shows before the data.
            pub fn message(self) -> &'static str {
                match self {
                    $(Symbol::$variant => $message,)*
                }
            }
        }
    };
}

error_symbols! {
    Error => "error", "";
    WrongTypeArgument => "wrong-type-argument", "Wrong type argument";
    ArgsOutOfRange => "args-out-of-range", "Args out of range";
    CodingSystemError => "coding-system-error", "Invalid coding system";
    FileError => "file-error", "";
    FileMissing => "file-missing", "";
    FileAlreadyExists => "file-already-exists", "";
    NetprocPanic => "netproc-panic", "netproc internal error";
    NetprocError => "netproc-error", "netproc error";
}

impl Symbol {
    /// Whether `file-error` is among the symbol's conditions.
    pub fn is_file_error(self) -> bool {
        matches!(self, Symbol::FileError | Symbol::FileMissing | Symbol::FileAlreadyExists)
    }

    /// Whether `error-message-string` starts with the first datum (`error` and the file
    /// errors) rather than the symbol's own message.
    fn message_is_first_datum(self) -> bool {
        self == Symbol::Error || self.is_file_error()
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An Emacs-style error: `(SYMBOL . DATA)` plus the errno that caused it, if any.
#[derive(Clone, Debug)]
pub struct Error {
    /// The error symbol.
    pub symbol: Symbol,
    /// The data list Emacs would signal with.
    pub data: Vec<Value>,
    /// The operating-system error number, or 0.
    pub errno: i32,
}

impl Error {
    /// `(error MESSAGE)`.
    pub fn msg(message: impl Into<String>) -> Error {
        Error { symbol: Symbol::Error, data: vec![Value::string(message.into())], errno: 0 }
    }

    /// `(wrong-type-argument PREDICATE VALUE)`.
    pub fn wrong_type(predicate: &str, value: &Value) -> Error {
        Error::new(Symbol::WrongTypeArgument, vec![Value::symbol(predicate), value.clone()])
    }

    /// `(file-error CONTEXT STRERROR . EXTRA)`, refined to `file-missing` for ENOENT and
    /// `file-already-exists` for EEXIST, as Emacs's `report_file_errno` does.
    pub fn file(context: &str, err: &io::Error, extra: Vec<Value>) -> Error {
        let errno = err.raw_os_error().unwrap_or(0);
        let symbol = match errno {
            libc::ENOENT => Symbol::FileMissing,
            libc::EEXIST => Symbol::FileAlreadyExists,
            _ => Symbol::FileError,
        };
        let mut data = vec![Value::string(context), Value::string(strerror(errno))];
        data.extend(extra);
        Error { symbol, data, errno }
    }

    /// An error for a panic caught at a boundary.
    pub fn panic(what: &str) -> Error {
        Error::new(Symbol::NetprocPanic, vec![Value::string(what)])
    }

    /// `(SYMBOL . DATA)` with no errno.
    pub fn new(symbol: Symbol, data: Vec<Value>) -> Error {
        Error { symbol, data, errno: 0 }
    }

    /// Whether the symbol has `file-error` among its conditions.
    pub fn is_file_error(&self) -> bool {
        self.symbol.is_file_error()
    }

    /// The text `error-message-string` shows for this error.
    pub fn message(&self) -> String {
        let (head, rest): (String, &[Value]) = if self.symbol.message_is_first_datum() {
            match self.data.split_first() {
                Some((first, rest)) => (first.princ(), rest),
                None => ("peculiar error".into(), &[]),
            }
        } else {
            (self.symbol.message().to_string(), &self.data[..])
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
        assert_eq!(err.symbol, Symbol::FileError);
        assert_eq!(err.errno, libc::ECONNREFUSED);
        assert_eq!(err.message(), "make client process failed: Connection refused, :name, x");
        let missing = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(Error::file("c", &missing, vec![]).symbol, Symbol::FileMissing);
    }
}
