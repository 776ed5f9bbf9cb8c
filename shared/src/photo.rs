//! Photos as evidence: size limits, the SHA-256 that identifies the bytes, and the RFC 9530
//! `Content-Digest` header a phone sends with an upload so damage in transit is caught.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};

/// Largest upload accepted, in bytes. Phones downscale before upload; 15 MB leaves room for a
/// full-resolution photo from a phone that could not.
pub const MAX_PHOTO_BYTES: usize = 15 * 1024 * 1024;
/// Longest side of an image the server will decode.
pub const MAX_PHOTO_DIMENSION: u32 = 12_000;
/// Most pixels the server will decode (50 MP): larger is refused before decoding (bombs).
pub const MAX_PHOTO_PIXELS: u64 = 50_000_000;
/// Most photos one visit may list.
pub const MAX_PHOTOS_PER_VISIT: usize = 50;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Lowercase hex, as stored.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits (field `sha256`).
    pub fn from_hex(s: &str) -> DomainResult<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out)
            .map_err(|_| DomainError::invalid("sha256", "must be 64 hexadecimal digits"))?;
        Ok(Self(out))
    }

    /// The `Content-Digest` header value for these bytes: `sha-256=:<base64>:`.
    pub fn content_digest_header(&self) -> String {
        format!("sha-256=:{}:", STANDARD.encode(self.0))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

/// Reads the SHA-256 from an RFC 9530 `Content-Digest` value such as
/// `sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:`. Other algorithms may be listed too
/// (`sha-512=:…:, sha-256=:…:`); SHA-256 must be among them. Errors name `Content-Digest`.
pub fn parse_content_digest(value: &str) -> DomainResult<Sha256Digest> {
    const FIELD: &str = "Content-Digest";
    let mut saw_any = false;
    for member in value.split(',') {
        let member = member.trim();
        if member.is_empty() {
            continue;
        }
        saw_any = true;
        let Some((alg, rest)) = member.split_once('=') else {
            return Err(DomainError::invalid(
                FIELD,
                "must look like sha-256=:<base64>:",
            ));
        };
        if !alg.trim().eq_ignore_ascii_case("sha-256") {
            continue;
        }
        let b64 = rest
            .trim()
            .strip_prefix(':')
            .and_then(|r| r.strip_suffix(':'))
            .ok_or_else(|| {
                DomainError::invalid(FIELD, "the sha-256 value must be base64 between colons")
            })?;
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| DomainError::invalid(FIELD, "the sha-256 value is not valid base64"))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| DomainError::invalid(FIELD, "a SHA-256 digest is 32 bytes"))?;
        return Ok(Sha256Digest(arr));
    }
    if saw_any {
        Err(DomainError::invalid(FIELD, "must include a sha-256 digest"))
    } else {
        Err(DomainError::required(FIELD))
    }
}

/// What the server knows of a stored photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoMeta {
    pub id: Uuid,
    /// SHA-256 (hex) of the stored JPEG.
    pub sha256: String,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub taken_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_known_input() {
        // RFC 9530 example: {"hello": "world"}
        let d = Sha256Digest::of(b"{\"hello\": \"world\"}");
        assert_eq!(
            d.content_digest_header(),
            "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
        );
        assert_eq!(Sha256Digest::from_hex(&d.to_hex()).unwrap(), d);
        assert!(Sha256Digest::from_hex("zz").is_err());
    }

    #[test]
    fn parses_content_digest() {
        let d = Sha256Digest::of(b"abc");
        assert_eq!(parse_content_digest(&d.content_digest_header()).unwrap(), d);
        let both = format!("sha-512=:AAAA:, {}", d.content_digest_header());
        assert_eq!(parse_content_digest(&both).unwrap(), d);
        let upper = d.content_digest_header().replace("sha-256", "SHA-256");
        assert_eq!(parse_content_digest(&upper).unwrap(), d);
    }

    #[test]
    fn refuses_bad_headers() {
        assert_eq!(parse_content_digest("").unwrap_err().code, "required");
        for bad in [
            "sha-256=abc",
            "sha-256=:not base64!:",
            "sha-256=:YWJj:",
            "sha-512=:AAAA:",
            "garbage",
        ] {
            let e = parse_content_digest(bad).unwrap_err();
            assert_eq!(e.field, "Content-Digest", "{bad}");
            assert_eq!(e.code, "invalid", "{bad}");
        }
    }
}
