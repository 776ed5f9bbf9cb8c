//! The `Actor` of a request: loaded from the bearer token (or the dashboard's session) with its
//! memberships and jurisdiction, and kept while the database's authorisation epoch is unchanged.

use doi178_shared::ProblemCode;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use diesel::Connection;
use doi178_shared::Role;
use uuid::Uuid;

pub use crate::actor::{Actor, Jurisdiction, Membership};
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Actor, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let path = req.path().to_string();
        // Already loaded by the route's access rule (`startup::rules`).
        if let Some(actor) = req.extensions().get::<Actor>().cloned() {
            return Box::pin(async move { check_password_fresh(&actor, &path).map(|()| actor) });
        }
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let actor = load_from_token(state, token).await?;
            check_password_fresh(&actor, &path)?;
            Ok(actor)
        })
    }
}

async fn load_from_token(
    state: Option<web::Data<AppState>>,
    token: Option<String>,
) -> Result<Actor, ApiError> {
    {
        {
            let state = state.ok_or_else(ApiError::internal)?;
            let token = token.ok_or_else(|| {
                ApiError::unauthorized("sign in first: send Authorization: Bearer <access_token>")
            })?;
            let claims = state.keys.verify_access(&token).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::ExpiredSignature => ApiError::unauthorized(
                        "the access token has expired; refresh it with POST /api/v1/auth/refresh",
                    )
                    .with_code(ProblemCode::TokenExpired),
                    _ => ApiError::unauthorized("the access token is not valid; sign in again")
                        .with_code(ProblemCode::InvalidToken),
                }
            })?;
            if let Some(actor) = state.actors.cached_now(&state.db, claims.sub, claims.sid) {
                return Ok(actor);
            }
            web::block(move || state.actors.load(&state.db, claims.sub, claims.sid)).await?
        }
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Users loaded for earlier requests, reused while the database's authorisation epoch
/// ([`db::tokens::auth_epoch`]) is unchanged: a request then reads one row instead of the
/// session, account, memberships and jurisdiction. Any change to those (by this server, another
/// one, or by hand in the database) changes the epoch, and the next request loads afresh.
#[derive(Default)]
pub struct ActorCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    epoch: i64,
    actors: HashMap<(Uuid, Uuid), Actor>,
}

/// More signed-in sessions than this at one epoch start the cache again (it is a cache of the
/// sessions in use, not of every session ever opened).
const CACHE_CAPACITY: usize = 20_000;

impl ActorCache {
    /// The user behind a verified token, as it is in the database now.
    pub fn load(&self, db: &db::Db, user_id: Uuid, session: Uuid) -> Result<Actor, ApiError> {
        let mut pooled = db.conn()?;
        let conn: &mut db::AnyConnection = &mut pooled;
        // The epoch first (one statement, no transaction needed): what is loaded after it is at
        // least as new as it.
        let epoch = db::tokens::auth_epoch(conn)?;
        if let Some(actor) = self.get(epoch, user_id, session) {
            return Ok(actor);
        }
        let actor = conn.transaction(|c| load_actor(c, user_id, session))?;
        self.put(epoch, &actor);
        Ok(actor)
    }

    /// The user from the cache without leaving the request's thread, when that cannot wait: on
    /// SQLite (the epoch is one row of a local file: no network round trip to wait for) with a
    /// connection idle in the pool. `None`: load it with [`ActorCache::load`] on a blocking thread.
    pub fn cached_now(&self, db: &db::Db, user_id: Uuid, session: Uuid) -> Option<Actor> {
        let epoch = db.try_read_here(db::tokens::auth_epoch).ok()?.ok()?;
        self.get(epoch, user_id, session)
    }

    fn get(&self, epoch: i64, user_id: Uuid, session: Uuid) -> Option<Actor> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.epoch != epoch {
            return None;
        }
        inner.actors.get(&(user_id, session)).cloned()
    }

    fn put(&self, epoch: i64, actor: &Actor) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if epoch < inner.epoch {
            return; // loaded before a change another request has already seen
        }
        if epoch > inner.epoch || inner.actors.len() >= CACHE_CAPACITY {
            inner.actors.clear();
            inner.epoch = epoch;
        }
        inner
            .actors
            .insert((actor.user_id, actor.session), actor.clone());
    }
}

/// Loads the user behind a verified token: refused when the account was disabled or the session
/// was signed out since the token was issued.
fn load_actor(
    conn: &mut db::AnyConnection,
    user_id: Uuid,
    session: Uuid,
) -> Result<Actor, ApiError> {
    if !db::tokens::family_live(conn, session, user_id)? {
        return Err(
            ApiError::unauthorized("this session was signed out; sign in again")
                .with_code(ProblemCode::SessionRevoked),
        );
    }
    let user = db::users::find_by_id(conn, user_id)?
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::unauthorized("the account is disabled or no longer exists"))?;
    let role = user.role;
    let teams = db::teams::memberships_of(conn, user_id)?;
    let mut team_units = Vec::with_capacity(teams.len());
    for m in &teams {
        let units = db::units::subtree_ids(conn, std::slice::from_ref(&m.unit_id))?;
        team_units.push((m.team_id, Arc::new(units)));
    }
    let jurisdiction = if role == Role::Admin {
        Jurisdiction::All
    } else {
        let mut units: BTreeSet<String> = team_units
            .iter()
            .flat_map(|(_, u)| u.iter().cloned())
            .collect();
        if let Some(own) = &user.unit_id {
            units.extend(db::units::subtree_ids(conn, std::slice::from_ref(own))?);
        }
        Jurisdiction::Units(Arc::new(units))
    };
    Ok(Actor {
        user_id,
        username: user.username,
        display_name: user.display_name,
        role,
        unit_id: user.unit_id,
        teams,
        jurisdiction,
        team_units,
        session,
        must_change_password: user.must_change_password,
    })
}

/// What an account signed in with a temporary password may still do: change it, read who it is,
/// sign out (API and dashboard).
pub const OPEN_BEFORE_PASSWORD_CHANGE: &[&str] = &[
    "/api/v1/auth/password",
    "/api/v1/me",
    "/api/v1/auth/logout",
    "/account",
    "/account/password",
    "/logout",
];

/// Refuses everything but [`OPEN_BEFORE_PASSWORD_CHANGE`] to an actor who must change a
/// temporary password.
pub fn check_password_fresh(actor: &Actor, path: &str) -> Result<(), ApiError> {
    if actor.must_change_password && !OPEN_BEFORE_PASSWORD_CHANGE.contains(&path) {
        return Err(ApiError::forbidden(
            "your password was reset to a temporary one: choose your own first with POST \
             /api/v1/auth/password (on the dashboard: Tài khoản → Đổi mật khẩu)",
        )
        .with_code(ProblemCode::PasswordChangeRequired));
    }
    Ok(())
}
