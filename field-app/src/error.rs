//! The one error type of the core, serialisable for the UI: a stable `code`, a human `message`
//! and, for validation errors, the offending `field`.

use serde::{Deserialize, Serialize};

/// Stable error codes.
pub mod code {
    /// The server refused the refresh token: sign in again (nothing in the outbox is lost).
    pub const NEEDS_SIGN_IN: &str = "needs_sign_in";
    /// No account was ever signed in on this phone.
    pub const NOT_SIGNED_IN: &str = "not_signed_in";
    /// The server could not be reached (or kept failing) after the bounded retries.
    pub const OFFLINE: &str = "offline";
    /// Wrong username or password.
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    /// The server answered something the core did not expect.
    pub const SERVER: &str = "server";
    /// Input that breaks a domain rule (`field` names it).
    pub const INVALID: &str = "invalid";
    pub const NOT_FOUND: &str = "not_found";
    /// The visit can no longer be changed (submitted).
    pub const NOT_EDITABLE: &str = "not_editable";
    /// The local store failed (disk full, corrupt file).
    pub const STORE: &str = "store";
    /// No server URL configured.
    pub const NOT_CONFIGURED: &str = "not_configured";
    /// The command name or its arguments are wrong.
    pub const BAD_COMMAND: &str = "bad_command";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct FieldError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For validation errors: the domain's own code (`required`, `out_of_range`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

pub type FieldResult<T> = Result<T, FieldError>;

impl FieldError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            message: message.into(),
            field: None,
            detail: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn needs_sign_in() -> Self {
        Self::new(
            code::NEEDS_SIGN_IN,
            "the session has ended on the server; sign in again (recorded visits are kept)",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(code::NOT_FOUND, format!("{what} not found on this phone"))
    }

    pub fn store(e: impl std::fmt::Display) -> Self {
        Self::new(code::STORE, format!("local store: {e}"))
    }

    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }
}

impl From<doi178_shared::DomainError> for FieldError {
    fn from(e: doi178_shared::DomainError) -> Self {
        Self {
            code: code::INVALID.to_string(),
            message: e.message,
            field: Some(e.field),
            detail: Some(e.code.to_string()),
        }
    }
}

impl From<diesel::result::Error> for FieldError {
    fn from(e: diesel::result::Error) -> Self {
        Self::store(e)
    }
}

impl From<std::io::Error> for FieldError {
    fn from(e: std::io::Error) -> Self {
        Self::store(e)
    }
}

impl From<serde_json::Error> for FieldError {
    fn from(e: serde_json::Error) -> Self {
        Self::store(format!("stored JSON: {e}"))
    }
}
