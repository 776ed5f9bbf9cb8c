//! Who is asking, and what they may see: the authenticated user with role, teams and jurisdiction
//! (the set of administrative units in their subtree). Every query in `db` takes an `Actor` and
//! filters by it; handlers never write their own filters.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use doi178_shared::{MemberRole, Role};
use uuid::Uuid;

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Membership {
    pub team_id: Uuid,
    pub role: MemberRole,
    pub unit_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Jurisdiction {
    /// The whole country (administrators).
    All,
    /// These administrative units and nothing else.
    Units(BTreeSet<String>),
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<String>,
    pub teams: Vec<Membership>,
    pub jurisdiction: Jurisdiction,
    pub session: Uuid,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Unit ids the actor may see, or `None` for "all".
    pub fn unit_ids(&self) -> Option<Vec<String>> {
        match &self.jurisdiction {
            Jurisdiction::All => None,
            Jurisdiction::Units(set) => Some(set.iter().cloned().collect()),
        }
    }

    pub fn sees_unit(&self, unit_id: &str) -> bool {
        match &self.jurisdiction {
            Jurisdiction::All => true,
            Jurisdiction::Units(set) => set.contains(unit_id),
        }
    }

    pub fn team_ids(&self) -> Vec<String> {
        self.teams.iter().map(|m| m.team_id.to_string()).collect()
    }

    pub fn member_of(&self, team: Uuid) -> bool {
        self.teams.iter().any(|m| m.team_id == team)
    }

    /// Leader or deputy of `team`: the "leader's chain" that may see its drafts.
    pub fn leads(&self, team: Uuid) -> bool {
        self.role == Role::TeamLeader
            && self
                .teams
                .iter()
                .any(|m| m.team_id == team && m.role.is_leadership())
    }

    /// Teams whose drafts and unreleased work this actor may see.
    pub fn led_team_ids(&self) -> Vec<String> {
        if self.role != Role::TeamLeader {
            return Vec::new();
        }
        self.teams
            .iter()
            .filter(|m| m.role.is_leadership())
            .map(|m| m.team_id.to_string())
            .collect()
    }

    /// Provincial staff and administrators manage reference data in their jurisdiction.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::ProvincialStaff)
    }

    pub fn require(&self, allowed: &[Role], action: &str) -> Result<(), ApiError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "your role ({}) may not {action}",
                self.role.as_str()
            )))
        }
    }
}

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Actor, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
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
                    .with_code("token_expired"),
                    _ => ApiError::unauthorized("the access token is not valid; sign in again")
                        .with_code("invalid_token"),
                }
            })?;
            let db = state.db.clone();
            web::block(move || load_actor(&db, claims.sub, claims.sid)).await?
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Loads the user behind a verified token: refused when the account was disabled or the session
/// was signed out since the token was issued.
pub fn load_actor(db: &db::Db, user_id: Uuid, session: Uuid) -> Result<Actor, ApiError> {
    db.read(|conn| {
        if !db::tokens::family_live(conn, session, user_id)? {
            return Err(
                ApiError::unauthorized("this session was signed out; sign in again")
                    .with_code("session_revoked"),
            );
        }
        let user = db::users::find_by_id(conn, user_id)?
            .filter(|u| u.active)
            .ok_or_else(|| ApiError::unauthorized("the account is disabled or no longer exists"))?;
        let role = Role::from_str(&user.role).map_err(|_| ApiError::internal())?;
        let teams = db::teams::memberships_of(conn, user_id)?;
        let jurisdiction = if role == Role::Admin {
            Jurisdiction::All
        } else {
            let mut roots: Vec<String> = teams.iter().map(|m| m.unit_id.clone()).collect();
            roots.extend(user.unit_id.clone());
            Jurisdiction::Units(db::units::subtree_ids(conn, &roots)?)
        };
        Ok(Actor {
            user_id,
            username: user.username,
            display_name: user.display_name,
            role,
            unit_id: user.unit_id,
            teams,
            jurisdiction,
            session,
        })
    })
}
