//! The `session` table: the one signed-in account of the phone (row 1) and its tokens.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use uuid::Uuid;

use super::schema::session::dsl as s;
use crate::error::{FieldError, FieldResult};
use crate::types::UserInfo;

#[derive(Queryable, Debug, Clone)]
pub(crate) struct Session {
    _id: i32,
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub teams_json: String,
    pub access_token: Option<String>,
    pub access_expires_at: i64,
    pub refresh_token: Option<String>,
    pub needs_sign_in: i32,
}

impl Session {
    pub fn user(&self) -> FieldResult<UserInfo> {
        Ok(UserInfo {
            id: Uuid::parse_str(&self.user_id).map_err(FieldError::store)?,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role.clone(),
            teams: serde_json::from_str(&self.teams_json)?,
        })
    }
}

/// The stored session, if anybody ever signed in.
pub(crate) fn get(c: &mut SqliteConnection) -> FieldResult<Option<Session>> {
    Ok(s::session.find(1).first::<Session>(c).optional()?)
}

/// Replaces the session with `user`'s, without tokens yet.
pub(crate) fn replace(c: &mut SqliteConnection, user: &UserInfo) -> FieldResult<()> {
    diesel::replace_into(s::session)
        .values((
            s::id.eq(1),
            s::user_id.eq(user.id.to_string()),
            s::username.eq(&user.username),
            s::display_name.eq(&user.display_name),
            s::role.eq(&user.role),
            s::teams_json.eq(serde_json::to_string(&user.teams)?),
            s::access_token.eq(None::<String>),
            s::access_expires_at.eq(0i64),
            s::refresh_token.eq(None::<String>),
            s::needs_sign_in.eq(0),
        ))
        .execute(c)?;
    Ok(())
}

/// Keeps a new token pair (`expires_at` in Unix seconds); the session is usable again.
pub(crate) fn set_tokens(
    c: &mut SqliteConnection,
    access: &str,
    refresh: &str,
    expires_at: i64,
) -> FieldResult<()> {
    diesel::update(s::session.find(1))
        .set((
            s::access_token.eq(access),
            s::refresh_token.eq(refresh),
            s::access_expires_at.eq(expires_at),
            s::needs_sign_in.eq(0),
        ))
        .execute(c)?;
    Ok(())
}

/// Drops the tokens: the session is over on the server, the user must sign in again.
pub(crate) fn mark_needs_sign_in(c: &mut SqliteConnection) -> FieldResult<()> {
    diesel::update(s::session.find(1))
        .set((
            s::needs_sign_in.eq(1),
            s::access_token.eq(None::<String>),
            s::refresh_token.eq(None::<String>),
        ))
        .execute(c)?;
    Ok(())
}

/// Signed out: the tokens and their expiry are forgotten.
pub(crate) fn sign_out(c: &mut SqliteConnection) -> FieldResult<()> {
    diesel::update(s::session.find(1))
        .set((
            s::needs_sign_in.eq(1),
            s::access_token.eq(None::<String>),
            s::refresh_token.eq(None::<String>),
            s::access_expires_at.eq(0i64),
        ))
        .execute(c)?;
    Ok(())
}
