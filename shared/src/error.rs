//! The one error type of the domain: which field is wrong, a stable machine code, and a human
//! message. The server maps it onto its JSON problem body without re-interpreting it.

use crate::problem::ProblemCode;

/// A validation failure. `field` names the offending input field, with indices and dots for nested
/// values (`violations[2].legal_basis`); `code` is one of the stable codes of [`ProblemCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DomainError {
    pub field: String,
    pub code: ProblemCode,
    pub message: String,
}

/// Shorthand used by every constructor in this crate.
pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    pub fn new(field: impl Into<String>, code: ProblemCode, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    pub fn required(field: impl Into<String>) -> Self {
        Self::new(field, ProblemCode::Required, "is required")
    }

    /// `max` is in characters (Unicode scalar values) for text and in items for lists.
    pub fn too_long(field: impl Into<String>, max: usize) -> Self {
        Self::new(
            field,
            ProblemCode::TooLong,
            format!("must be at most {max} long"),
        )
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(field, ProblemCode::Invalid, message)
    }

    pub fn out_of_range(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(field, ProblemCode::OutOfRange, message)
    }

    pub fn duplicate(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(field, ProblemCode::Duplicate, message)
    }

    pub fn invalid_transition(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(field, ProblemCode::InvalidTransition, message)
    }

    pub fn inconsistent(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(field, ProblemCode::Inconsistent, message)
    }

    /// Places the error inside a containing value: `legal_basis` with prefix `violations[2]`
    /// becomes `violations[2].legal_basis`; `[0]` with prefix `answers` becomes `answers[0]`.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl AsRef<str>) -> Self {
        let prefix = prefix.as_ref();
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if prefix.is_empty() {
            self.field
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }

    /// Replaces the field name, for a value parsed under a different name than its default.
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

/// `"{field}[{index}]"`, the name of one element of a list field.
pub(crate) fn indexed(field: &str, index: usize) -> String {
    format!("{field}[{index}]")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn display_is_field_then_message() {
        let e = DomainError::required("name");
        assert_eq!(e.to_string(), "name: is required");
        assert_eq!(e.code, "required");
    }

    #[test]
    fn helpers_use_the_stable_codes() {
        assert_eq!(DomainError::too_long("a", 3).code, "too_long");
        assert_eq!(
            DomainError::too_long("a", 3).message,
            "must be at most 3 long"
        );
        assert_eq!(DomainError::invalid("a", "x").code, "invalid");
        assert_eq!(DomainError::out_of_range("a", "x").code, "out_of_range");
        assert_eq!(DomainError::duplicate("a", "x").code, "duplicate");
        assert_eq!(
            DomainError::invalid_transition("a", "x").code,
            "invalid_transition"
        );
        assert_eq!(DomainError::inconsistent("a", "x").code, "inconsistent");
    }

    #[test]
    fn with_prefix_builds_nested_field_names() {
        let e = DomainError::required("legal_basis").with_prefix("violations[2]");
        assert_eq!(e.field, "violations[2].legal_basis");
        let e = DomainError::duplicate("[3]", "x").with_prefix("photo_ids");
        assert_eq!(e.field, "photo_ids[3]");
        let e = DomainError::required("").with_prefix("gps");
        assert_eq!(e.field, "gps");
        let e = DomainError::required("lat").with_prefix("");
        assert_eq!(e.field, "lat");
        let e = DomainError::required("lat").with_prefix("gps");
        assert_eq!(e.field, "gps.lat");
    }

    #[test]
    fn with_field_replaces_the_field() {
        let e = DomainError::invalid("status", "x").with_field("next_status");
        assert_eq!(e.field, "next_status");
    }

    #[test]
    fn indexed_names_list_elements() {
        assert_eq!(indexed("answers", 4), "answers[4]");
    }
}
