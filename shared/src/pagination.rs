//! Keyset pagination: an opaque cursor naming the last item of a page (its sort key and id), and
//! the page size a client may ask for.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::error::{DomainError, DomainResult};

/// Items per page when the client does not say.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;
/// Most items a client may ask for in one page.
pub const MAX_PAGE_LIMIT: u32 = 500;

/// A page size between 1 and [`MAX_PAGE_LIMIT`] (field `limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageLimit(u32);

impl PageLimit {
    /// `None` gives [`DEFAULT_PAGE_LIMIT`].
    pub fn parse(limit: Option<u32>) -> DomainResult<Self> {
        match limit {
            None => Ok(Self(DEFAULT_PAGE_LIMIT)),
            Some(n) if (1..=MAX_PAGE_LIMIT).contains(&n) => Ok(Self(n)),
            Some(_) => Err(DomainError::out_of_range(
                "limit",
                format!("must be between 1 and {MAX_PAGE_LIMIT}"),
            )),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// The position after which the next page starts: the sort key of the last item (as text) and its
/// id, which breaks ties. Encoded as URL-safe base64 so that clients treat it as opaque.
pub struct PageCursor;

impl PageCursor {
    pub fn encode(key: &str, id: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(format!("{key}\u{1f}{id}"))
    }

    /// Errors name the field `cursor`.
    pub fn decode(cursor: &str) -> DomainResult<(String, Uuid)> {
        let bad = || {
            DomainError::invalid(
                "cursor",
                "is not a cursor this server gave out; start again without it",
            )
        };
        if cursor.len() > 2048 {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (key, id) = text.rsplit_once('\u{1f}').ok_or_else(bad)?;
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        Ok((key.to_owned(), id))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(PageLimit::parse(None).unwrap().get(), DEFAULT_PAGE_LIMIT);
        assert_eq!(PageLimit::parse(Some(1)).unwrap().get(), 1);
        assert_eq!(
            PageLimit::parse(Some(MAX_PAGE_LIMIT)).unwrap().get(),
            MAX_PAGE_LIMIT
        );
        let e = PageLimit::parse(Some(0)).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("limit", "out_of_range")
        );
        assert!(PageLimit::parse(Some(MAX_PAGE_LIMIT + 1)).is_err());
    }

    #[test]
    fn cursor_round_trips_including_vietnamese_keys() {
        let id = Uuid::new_v4();
        let c = PageCursor::encode("nha nghi hoa\u{1f}x", id);
        assert!(c
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'));
        assert_eq!(
            PageCursor::decode(&c).unwrap(),
            ("nha nghi hoa\u{1f}x".to_string(), id)
        );
        let c = PageCursor::encode("Nhà nghỉ", id);
        assert_eq!(PageCursor::decode(&c).unwrap().0, "Nhà nghỉ");
    }

    #[test]
    fn garbage_cursors_are_refused() {
        for bad in ["", "!!!", "aGVsbG8", &"a".repeat(3000)] {
            let e = PageCursor::decode(bad).unwrap_err();
            assert_eq!(e.field, "cursor");
        }
    }
}
