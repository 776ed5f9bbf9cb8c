//! Access tokens (JWT, HS256 pinned, 15 minutes) and refresh tokens (opaque random strings, stored
//! only as SHA-256, rotated on every use, 30 days so a phone can stay signed in through days
//! offline; reuse of a rotated token revokes its whole family).

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const ACCESS_TTL_SECONDS: i64 = 15 * 60;
pub const REFRESH_TTL_DAYS: i64 = 30;
pub const AUDIENCE: &str = "doi178-api";
pub const ISSUER: &str = "doi178";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: Uuid,
    /// Refresh-token family the session belongs to; signing out revokes it.
    pub sid: Uuid,
    pub role: String,
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn from_secret(secret: &[u8]) -> TokenKeys {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// Uses the configured secret, or the one kept in `<data_dir>/jwt-secret`, creating it (mode
    /// 0600) on first start.
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<TokenKeys> {
        if let Some(secret) = configured {
            anyhow::ensure!(
                secret.len() >= 32,
                "the JWT secret must be at least 32 characters (DOI178_JWT_SECRET / jwt_secret)"
            );
            return Ok(TokenKeys::from_secret(secret.as_bytes()));
        }
        let path = data_dir.join("jwt-secret");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let existing = existing.trim();
            anyhow::ensure!(existing.len() >= 32, "{} is too short", path.display());
            return Ok(TokenKeys::from_secret(existing.as_bytes()));
        }
        std::fs::create_dir_all(data_dir)?;
        let secret = random_token();
        write_private(&path, &secret)?;
        Ok(TokenKeys::from_secret(secret.as_bytes()))
    }

    pub fn issue_access(
        &self,
        user: Uuid,
        family: Uuid,
        role: &str,
    ) -> anyhow::Result<(String, i64)> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user,
            sid: family,
            role: role.to_string(),
            aud: AUDIENCE.to_string(),
            iss: ISSUER.to_string(),
            iat: now,
            exp: now + ACCESS_TTL_SECONDS,
            jti: Uuid::new_v4(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, ACCESS_TTL_SECONDS))
    }

    /// Verifies signature (HS256 only: `none` and other algorithms are refused), expiry with no
    /// leeway, audience and issuer.
    pub fn verify_access(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 0;
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        Ok(jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)?.claims)
    }
}

/// 256 random bits, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a refresh token: its SHA-256, never the token itself.
pub fn refresh_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn refresh_expiry() -> chrono::NaiveDateTime {
    (Utc::now() + Duration::days(REFRESH_TTL_DAYS)).naive_utc()
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_tampered_ones_do_not() {
        let keys = TokenKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let (t, ttl) = keys
            .issue_access(Uuid::new_v4(), Uuid::new_v4(), "inspector")
            .unwrap();
        assert_eq!(ttl, 900);
        assert!(keys.verify_access(&t).is_ok());
        let mut tampered = t.clone();
        tampered.pop();
        tampered.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert!(keys.verify_access(&tampered).is_err());
        let other = TokenKeys::from_secret(b"another-secret-another-secret-xx");
        assert!(other.verify_access(&t).is_err());
    }

    #[test]
    fn alg_none_is_refused() {
        let keys = TokenKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let now = Utc::now().timestamp();
        let body = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"sub": Uuid::new_v4(), "sid": Uuid::new_v4(), "role":"admin",
                "aud": AUDIENCE, "iss": ISSUER, "iat": now, "exp": now + 60, "jti": Uuid::new_v4()})
            .to_string(),
        );
        assert!(keys.verify_access(&format!("{header}.{body}.")).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = random_token();
        assert_ne!(a, random_token());
        assert_eq!(refresh_hash(&a).len(), 64);
        assert_ne!(refresh_hash(&a), a);
    }
}
