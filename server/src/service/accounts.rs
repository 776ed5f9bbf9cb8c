//! Accounts: creating one, with the checks every way of creating one shares (the API, the
//! `add-user` command), and signing in (the API and the dashboard's form).

use doi178_shared::ProblemCode;
use std::net::IpAddr;

use actix_web::http::StatusCode;
use doi178_shared::Role;
use uuid::Uuid;

use crate::auth::passwords::{dummy_hash, verify_password};
use crate::auth::throttle;
use crate::auth::Actor;
use crate::clock::now;
use crate::db::audit_chain::Who;
use crate::db::{self, users::UserRow};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// An account about to be created, its password already hashed.
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub unit_id: Option<String>,
    pub agency_id: Option<String>,
    /// The password is a temporary one: it must be changed at the first sign-in.
    pub must_change_password: bool,
}

/// Inserts an account after the checks every way of creating one shares (the API and
/// `doi178-server add-user`): the unit exists within `scope`'s jurisdiction and the username is
/// free. Role and password policy are the caller's to check first.
/// How many accounts exist (none on a new database: `serve` then explains how to create the
/// first administrator).
pub fn count(db: &crate::db::Db) -> anyhow::Result<i64> {
    use diesel::prelude::*;
    let mut conn = db.conn()?;
    Ok(crate::db::schema::users::table
        .count()
        .get_result(&mut *conn)?)
}

/// Checks where an account is placed, as creating and editing one do: its unit exists within
/// `scope`'s jurisdiction (a bare official code, `46`, is that code in the list in force: the
/// unit's id is returned), and its agency is national, or of a unit within the jurisdiction or
/// above the account's own unit (a commune's inspector seconded by the provincial police).
pub fn check_placement(
    c: &mut db::AnyConnection,
    scope: &Actor,
    unit_id: Option<&str>,
    agency_id: Option<&str>,
) -> ApiResult<Option<String>> {
    let unit_id = match unit_id {
        None => None,
        Some(unit) => {
            let Some(found) = db::units::get(c, scope, unit)? else {
                return Err(ApiError::unprocessable(
                    ProblemCode::UnknownUnit,
                    "unit_id",
                    "unit does not exist or is outside your jurisdiction",
                ));
            };
            Some(found.id)
        }
    };
    if let Some(agency) = agency_id {
        let ok = match db::agencies::get(c, agency)? {
            None => false,
            Some(a) => match &a.unit_id {
                None => true,
                Some(u) => {
                    scope.sees_unit(u)
                        || match &unit_id {
                            Some(mine) => db::units::is_within(c, mine, u)?,
                            None => false,
                        }
                }
            },
        };
        if !ok {
            return Err(ApiError::unprocessable(
                ProblemCode::UnknownAgency,
                "agency_id",
                "agency does not exist or is outside your jurisdiction; see GET /api/v1/agencies",
            ));
        }
    }
    Ok(unit_id)
}

pub fn insert_account(
    c: &mut db::AnyConnection,
    scope: &Actor,
    who: &Who,
    mut account: NewAccount,
) -> ApiResult<UserRow> {
    account.unit_id = check_placement(
        c,
        scope,
        account.unit_id.as_deref(),
        account.agency_id.as_deref(),
    )?;
    if db::users::find_by_username(c, &account.username)?.is_some() {
        return Err(
            ApiError::conflict(ProblemCode::Duplicate, "this username is taken").field("username"),
        );
    }
    let row = UserRow {
        id: Uuid::new_v4().to_string(),
        username: account.username,
        display_name: account.display_name,
        password_hash: account.password_hash,
        role: account.role,
        unit_id: account.unit_id,
        agency_id: account.agency_id,
        active: true,
        created_at: now(),
        updated_at: now(),
        must_change_password: account.must_change_password,
    };
    db::users::insert(c, who, &row)?;
    Ok(row)
}

/// Checks a username and password (the same rules for the API and the dashboard's form): the
/// account's id and role, or 401 without saying which of the two was wrong, or 429 when failed
/// sign-ins for this username or from this client address reached their limit (the same for
/// usernames that do not exist).
pub fn authenticate(
    state: &AppState,
    username: &str,
    password: &str,
    client: Option<IpAddr>,
) -> ApiResult<(Uuid, Role)> {
    let attempt = throttle::begin(&state.db, &state.settings.auth, username, client)?;
    let result = check_credentials(state, username, password);
    match &result {
        Ok(_) => attempt.succeeded(&state.db)?,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            attempt.failed(&state.db, &state.settings.auth)?
        }
        // Anything else (the database failing) leaves the attempt counted, as a failure.
        Err(_) => {}
    }
    result
}

fn check_credentials(state: &AppState, username: &str, password: &str) -> ApiResult<(Uuid, Role)> {
    let wrong = || {
        ApiError::unauthorized("wrong username or password")
            .with_code(ProblemCode::InvalidCredentials)
    };
    if username.len() > 64 || password.len() > 256 {
        return Err(wrong());
    }
    let user = state.db.read(|c| {
        db::users::find_by_username(c, &username.trim().to_lowercase()).map_err(ApiError::from)
    })?;
    // Verify against a dummy hash for unknown users so timing does not reveal who exists.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.as_str())
        .unwrap_or(dummy_hash());
    let ok = verify_password(password, hash);
    let user = match user {
        Some(u) if ok && u.active => u,
        _ => return Err(wrong()),
    };
    let user_id = Uuid::parse_str(&user.id).map_err(|_| ApiError::internal())?;
    let role = user.role;
    Ok((user_id, role))
}
