//! Throttling of failed sign-ins, per account (the username typed, whether or not it exists) and per
//! client address, with the counts in the database so that every server replica enforces the same
//! limits.
//!
//! An attempt is recorded *before* the password is checked, and counted together with the failures
//! already there: so a burst of parallel guesses cannot slip past the limit while the first ones
//! are still being checked. A refused (throttled) attempt and a successful one remove their own
//! record again; a success also clears the account's failures. A throttled attempt never reaches
//! the password check, so a correct password is refused too while the limit holds.

use doi178_shared::ProblemCode;
use std::net::IpAddr;

use actix_web::http::StatusCode;
use chrono::{Duration, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::settings::AuthSettings;
use crate::db::{self, throttle::FailureRow, Db};
use crate::error::{ApiError, ApiResult};

pub const ACCOUNT: &str = "account";
pub const ADDRESS: &str = "address";

/// The database key of a scope and value: a SHA-256, so the table holds neither the usernames
/// typed (sometimes a password typed in the wrong box) nor the addresses.
pub fn key_hash(scope: &str, value: &str) -> String {
    hex::encode(Sha256::digest(
        format!("doi178-throttle:{scope}:{value}").as_bytes(),
    ))
}

/// The account key: usernames are compared trimmed and in lower case, like at sign-in.
pub fn account_key(username: &str) -> String {
    key_hash(ACCOUNT, &username.trim().to_lowercase())
}

struct Pending {
    id: String,
    key: String,
    max: u32,
}

/// A sign-in attempt that passed the throttle; `succeeded` or `failed` must follow.
pub struct Attempt {
    account: Pending,
    address: Option<Pending>,
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn window(settings: &AuthSettings) -> Duration {
    Duration::seconds(i64::try_from(settings.failure_window_seconds).unwrap_or(i64::MAX / 2))
}

/// The answer to a throttled attempt: 429, `Retry-After` and a problem body that says neither
/// which limit was hit nor anything about the account.
pub fn throttled(retry_after: u64) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ProblemCode::TooManySignInFailures,
        format!(
            "too many failed sign-ins for this account or from this address; try again in \
             {retry_after} seconds"
        ),
    );
    e.retry_after = Some(retry_after);
    e
}

/// Records an attempt for `username` from `client`, or refuses it with 429 when either already
/// has its limit of failures within the window.
pub fn begin(
    db: &Db,
    settings: &AuthSettings,
    username: &str,
    client: Option<IpAddr>,
) -> ApiResult<Attempt> {
    let at = now();
    let attempt = Attempt {
        account: Pending {
            id: Uuid::new_v4().to_string(),
            key: account_key(username),
            max: settings.max_failures_per_account,
        },
        address: client.map(|ip| Pending {
            id: Uuid::new_v4().to_string(),
            key: key_hash(ADDRESS, &ip.to_string()),
            max: settings.max_failures_per_address,
        }),
    };
    let pending: Vec<(&Pending, &str)> = std::iter::once((&attempt.account, ACCOUNT))
        .chain(attempt.address.as_ref().map(|p| (p, ADDRESS)))
        .collect();
    // Committed before counting, so that concurrent attempts see each other.
    db.write(|c| -> ApiResult<()> {
        for (p, scope) in &pending {
            db::throttle::insert(
                c,
                &FailureRow {
                    id: p.id.clone(),
                    scope: scope.to_string(),
                    key_hash: p.key.clone(),
                    failed_at: at,
                },
            )?;
        }
        Ok(())
    })?;
    let since = at - window(settings);
    let ours: Vec<String> = pending.iter().map(|(p, _)| p.id.clone()).collect();
    let retry = db.read(|c| -> ApiResult<Option<u64>> {
        let mut retry: Option<u64> = None;
        for (p, _) in &pending {
            let n = db::throttle::count_since(c, &p.key, since)?;
            if n <= i64::from(p.max) {
                continue;
            }
            // Throttled until the max-th newest failure (not counting this attempt) leaves the
            // window: then fewer than max remain.
            let newest = db::throttle::recent(c, &p.key, since, i64::from(p.max) + 1)?;
            let until = newest
                .into_iter()
                .filter(|(id, _)| !ours.contains(id))
                .nth(p.max as usize - 1)
                .map(|(_, t)| t + window(settings));
            let secs = until
                .map(|u| ((u - at).num_milliseconds().max(0) + 999) / 1000)
                .unwrap_or(1)
                .max(1);
            let secs = u64::try_from(secs).unwrap_or(1);
            retry = Some(retry.map_or(secs, |r| r.max(secs)));
        }
        Ok(retry)
    });
    match retry {
        Ok(None) => Ok(attempt),
        Ok(Some(secs)) => {
            db.write(|c| db::throttle::delete_ids(c, &ours).map_err(ApiError::from))?;
            Err(throttled(secs))
        }
        Err(e) => {
            let _ = db.write(|c| db::throttle::delete_ids(c, &ours).map_err(ApiError::from));
            Err(e)
        }
    }
}

impl Attempt {
    /// The password was right: the account's failures are forgotten, and this attempt does not
    /// count against the address.
    pub fn succeeded(self, db: &Db) -> ApiResult<()> {
        db.write(|c| -> ApiResult<()> {
            db::throttle::delete_key(c, &self.account.key)?;
            if let Some(a) = &self.address {
                db::throttle::delete_ids(c, std::slice::from_ref(&a.id))?;
            }
            Ok(())
        })
    }

    /// The attempt failed: its records stay for the window. Failures that left every window are
    /// removed on the way.
    pub fn failed(self, db: &Db, settings: &AuthSettings) -> ApiResult<()> {
        let before = now() - window(settings);
        db.write(|c| db::throttle::purge_before(c, before).map_err(ApiError::from))?;
        Ok(())
    }
}
