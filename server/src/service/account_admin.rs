//! Administering accounts (the API and the dashboard's `/admin/users` share these): edit,
//! deactivate and reactivate (sessions closed at once), reset a password to a temporary one that
//! must be changed at the next sign-in, unlock an account locked by failed sign-ins; and every
//! user changing their own password.
//!
//! Administrators administer every account; provincial staff the team leaders' and inspectors'
//! accounts of their jurisdiction. An account outside that answers as if it did not exist (404);
//! one inside the jurisdiction of a role staff may not administer gets 403.

use std::net::IpAddr;

use doi178_shared::{ProblemCode, Role};
use rand::Rng;
use uuid::Uuid;

use crate::auth::passwords::hash_password;
use crate::auth::{password_policy, throttle, Actor};
use crate::clock::now;
use crate::db::audit_chain::Who;
use crate::db::{self, users::UserRow, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Longest reason kept with a change.
const MAX_REASON: usize = 500;

/// The account `id` as `actor` may administer it.
pub fn administered(c: &mut AnyConnection, actor: &Actor, id: Uuid) -> ApiResult<UserRow> {
    actor.require(&[Role::Admin, Role::ProvincialStaff], "administer accounts")?;
    let user = db::users::get_visible(c, actor, id)?.ok_or_else(|| ApiError::not_found("user"))?;
    if actor.role == Role::ProvincialStaff
        && !matches!(user.role, Role::TeamLeader | Role::Inspector)
    {
        return Err(ApiError::forbidden(
            "provincial staff administer the accounts of team leaders and inspectors only",
        ));
    }
    Ok(user)
}

/// A reason as given (trimmed, required, at most 500 characters; field `reason`).
pub fn reason(text: &str) -> ApiResult<String> {
    Ok(doi178_shared::text::clean_text("reason", text, MAX_REASON)?)
}

/// What may change about an account (`PUT /users/{id}`).
pub struct AccountEdit {
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<String>,
    pub agency_id: Option<String>,
}

/// Edits an account: its name, role, unit and agency, with the checks of account creation
/// (staff give team leader and inspector roles only, the unit within their jurisdiction).
pub fn edit(
    c: &mut AnyConnection,
    actor: &Actor,
    id: Uuid,
    edit: AccountEdit,
) -> ApiResult<UserRow> {
    let mut user = administered(c, actor, id)?;
    let display_name = doi178_shared::text::clean_line("display_name", &edit.display_name, 120)?;
    if actor.role == Role::ProvincialStaff
        && !matches!(edit.role, Role::TeamLeader | Role::Inspector)
    {
        return Err(ApiError::forbidden(
            "provincial staff may give the team leader and inspector roles only",
        )
        .field("role"));
    }
    if edit.role != Role::Admin && edit.unit_id.is_none() {
        return Err(ApiError::unprocessable(
            ProblemCode::Required,
            "unit_id",
            "every account except an administrator's belongs to a unit",
        ));
    }
    if user.id == actor.user_id.to_string() && edit.role != user.role {
        return Err(ApiError::unprocessable(
            ProblemCode::Invalid,
            "role",
            "you cannot change your own role; ask another administrator",
        ));
    }
    let checked = crate::service::accounts::check_placement(
        c,
        actor,
        edit.unit_id.as_deref(),
        edit.agency_id.as_deref(),
    )?;
    user.display_name = display_name;
    user.role = edit.role;
    user.unit_id = checked;
    user.agency_id = edit.agency_id;
    user.updated_at = now();
    db::users::update(c, &Who::of(actor), &user, None)?;
    Ok(user)
}

/// Deactivates (`active` false) or reactivates an account, with the reason. Deactivating closes
/// every session of the account at once; nobody deactivates their own account.
pub fn set_active(
    c: &mut AnyConnection,
    actor: &Actor,
    id: Uuid,
    active: bool,
    why: &str,
) -> ApiResult<UserRow> {
    let why = reason(why)?;
    let mut user = administered(c, actor, id)?;
    if !active && user.id == actor.user_id.to_string() {
        return Err(ApiError::unprocessable(
            ProblemCode::Invalid,
            "active",
            "you cannot deactivate your own account; ask another administrator",
        ));
    }
    if user.active == active {
        return Ok(user);
    }
    user.active = active;
    user.updated_at = now();
    db::users::update(c, &Who::of(actor), &user, Some(&why))?;
    if !active {
        db::tokens::revoke_user(c, &user.id, None)?;
    }
    Ok(user)
}

/// A temporary password a person can read out and type: four groups of four letters and digits
/// without look-alikes (`k7mp-2qxd-9hte-r4wa`), about 80 bits.
pub fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Sets a new temporary password (returned once, never stored in clear) that must be changed at
/// the next sign-in, closes the account's sessions and forgets its failed sign-ins. The hash is
/// made by the caller (argon2 is slow: off the request thread).
pub fn reset_password(
    c: &mut AnyConnection,
    actor: &Actor,
    id: Uuid,
    why: &str,
    hash: String,
) -> ApiResult<UserRow> {
    let why = reason(why)?;
    let mut user = administered(c, actor, id)?;
    user.password_hash = hash;
    user.must_change_password = true;
    user.updated_at = now();
    db::users::update(c, &Who::of(actor), &user, Some(&why))?;
    db::tokens::revoke_user(c, &user.id, None)?;
    db::throttle::delete_key(c, &throttle::account_key(&user.username))?;
    Ok(user)
}

/// Forgets the failed sign-ins of an account locked by them (the limit per account); returns how
/// many were forgotten. Failures counted per client address stay.
pub fn unlock(c: &mut AnyConnection, actor: &Actor, id: Uuid) -> ApiResult<usize> {
    let user = administered(c, actor, id)?;
    Ok(db::throttle::delete_key(
        c,
        &throttle::account_key(&user.username),
    )?)
}

/// Whether each username has reached its limit of failed sign-ins within the window.
pub fn locked(c: &mut AnyConnection, state: &AppState, usernames: &[&str]) -> ApiResult<Vec<bool>> {
    let since = now()
        - chrono::Duration::seconds(
            i64::try_from(state.settings.auth.failure_window_seconds).unwrap_or(i64::MAX / 2),
        );
    let max = i64::from(state.settings.auth.max_failures_per_account);
    usernames
        .iter()
        .map(|u| Ok(db::throttle::count_since(c, &throttle::account_key(u), since)? >= max))
        .collect()
}

/// Changes the signed-in user's own password after checking the current one (a wrong one counts
/// as a failed sign-in and is throttled like one). The new one must meet the policy and differ
/// from the current one; the user's other sessions are closed, this one stays.
pub fn change_own_password(
    state: &AppState,
    actor: &Actor,
    current: &str,
    new: &str,
    client: Option<IpAddr>,
) -> ApiResult<()> {
    if current.is_empty() {
        return Err(ApiError::unprocessable(
            ProblemCode::Required,
            "current_password",
            "enter your current password",
        ));
    }
    password_policy::check(&actor.username, new).map_err(|e| e.field("new_password"))?;
    if new == current {
        return Err(ApiError::unprocessable(
            ProblemCode::Invalid,
            "new_password",
            "choose a password different from the current one",
        ));
    }
    match crate::service::accounts::authenticate(state, &actor.username, current, client) {
        Ok((id, _)) if id == actor.user_id => {}
        Ok(_) => return Err(ApiError::internal()),
        Err(e) if e.status == actix_web::http::StatusCode::UNAUTHORIZED => {
            return Err(ApiError::unprocessable(
                ProblemCode::WrongPassword,
                "current_password",
                "the current password is wrong",
            ))
        }
        Err(e) => return Err(e),
    }
    let hash = hash_password(new).map_err(|_| ApiError::internal())?;
    let session = actor.session.to_string();
    state.db.write(|c| -> ApiResult<()> {
        let mut user =
            db::users::find_by_id(c, actor.user_id)?.ok_or_else(|| ApiError::not_found("user"))?;
        user.password_hash = hash;
        user.must_change_password = false;
        user.updated_at = now();
        db::users::update(c, &Who::of(actor), &user, None)?;
        db::tokens::revoke_user(c, &user.id, Some(&session))?;
        Ok(())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_are_readable_and_meet_the_policy() {
        let a = temporary_password();
        let b = temporary_password();
        assert_ne!(a, b);
        assert_eq!(a.len(), 19);
        assert_eq!(a.split('-').count(), 4);
        assert!(a
            .chars()
            .all(|c| c == '-' || (c.is_ascii_alphanumeric() && !"il1o0".contains(c))));
        password_policy::check("kiemtra.hue", &a).unwrap();
    }
}
