//! Sign-in, sign-out, the tokens (refreshed once when they expire) and authenticated requests.

use chrono::Utc;
use reqwest::Method;
use serde_json::json;

use crate::core::{lock, FieldCore};
use crate::error::{code, FieldError, FieldResult};
use crate::http::{Request, Response};
use crate::store::session::Session;
use crate::store::{self, session, visits};
use crate::types::*;

/// Refresh the access token when it has less than this many seconds left.
const ACCESS_MARGIN_S: i64 = 30;

impl FieldCore {
    pub(super) fn session(&self) -> FieldResult<Option<Session>> {
        self.db(session::get)
    }

    pub(super) fn require_user(&self) -> FieldResult<Session> {
        self.session()?.ok_or_else(|| {
            FieldError::new(
                code::NOT_SIGNED_IN,
                "nobody has signed in on this phone yet",
            )
        })
    }

    fn store_tokens(&self, tokens: &TokenResponse) -> FieldResult<String> {
        let exp = Utc::now().timestamp() + tokens.expires_in;
        self.tx(|c| session::set_tokens(c, &tokens.access_token, &tokens.refresh_token, exp))?;
        Ok(tokens.access_token.clone())
    }

    fn mark_needs_sign_in(&self) -> FieldResult<()> {
        self.tx(session::mark_needs_sign_in)
    }

    /// Exchanges the refresh token; a refusal ends the session (`needs_sign_in`).
    fn refresh(&self) -> FieldResult<String> {
        let sess = self.require_user()?;
        let Some(rt) = sess.refresh_token.filter(|_| sess.needs_sign_in == 0) else {
            return Err(FieldError::needs_sign_in());
        };
        let body = serde_json::to_vec(&json!({ "refresh_token": rt }))?;
        let r = self.http.send(
            &self.base_url()?,
            &Request {
                method: Method::POST,
                path: "/api/v1/auth/refresh",
                token: None,
                headers: vec![("content-type", "application/json".into())],
                body: Some(body),
            },
        )?;
        match r.status {
            200 => self.store_tokens(&token_response(&r.body)?),
            401 | 403 => {
                self.mark_needs_sign_in()?;
                Err(FieldError::needs_sign_in())
            }
            _ => Err(FieldError::new(
                code::SERVER,
                format!("refresh: {}", r.reason()),
            )),
        }
    }

    /// A usable access token: the stored one while it is fresh, else a refreshed one.
    pub(super) fn access_token(&self) -> FieldResult<String> {
        self.fresh_token(None)
    }

    /// The stored access token unless it expires soon or is `stale` (the server refused it);
    /// otherwise refreshes. Serialised: parallel uploads that all meet an expired token refresh
    /// once (presenting a rotated refresh token twice would make the server revoke the session).
    fn fresh_token(&self, stale: Option<&str>) -> FieldResult<String> {
        let _one_at_a_time = lock(&self.refresh_lock);
        let sess = self.require_user()?;
        if sess.needs_sign_in != 0 || sess.refresh_token.is_none() {
            return Err(FieldError::needs_sign_in());
        }
        match sess.access_token {
            Some(t)
                if sess.access_expires_at > Utc::now().timestamp() + ACCESS_MARGIN_S
                    && Some(t.as_str()) != stale =>
            {
                Ok(t)
            }
            _ => self.refresh(),
        }
    }

    /// A request with the access token; on 401 the token is refreshed once and the request sent
    /// again.
    pub(super) fn authed(
        &self,
        method: Method,
        path: &str,
        headers: Vec<(&'static str, String)>,
        body: Option<Vec<u8>>,
    ) -> FieldResult<Response> {
        let base = self.base_url()?;
        let token = self.access_token()?;
        let mut req = Request {
            method,
            path,
            token: Some(&token),
            headers,
            body,
        };
        let r = self.http.send(&base, &req)?;
        if r.status != 401 {
            return Ok(r);
        }
        let fresh = self.fresh_token(Some(&token))?;
        req.token = Some(&fresh);
        let r = self.http.send(&base, &req)?;
        if r.status == 401 {
            self.mark_needs_sign_in()?;
            return Err(FieldError::needs_sign_in());
        }
        Ok(r)
    }

    /// Signs in. The same user as before resumes the outbox; another user gets a fresh copy of
    /// the server's data, and the previous user's outbox stays on the phone unsent.
    pub fn sign_in(&self, input: SignIn) -> FieldResult<SignInResult> {
        // Never switch accounts in the middle of a push (its requests would go out under the
        // new account's token).
        let _guard = lock(&self.sync_lock);
        let base = self.base_url()?;
        let body =
            serde_json::to_vec(&json!({"username": input.username, "password": input.password}))?;
        let r = self.http.send(
            &base,
            &Request {
                method: Method::POST,
                path: "/api/v1/auth/login",
                token: None,
                headers: vec![("content-type", "application/json".into())],
                body: Some(body),
            },
        )?;
        match r.status {
            200 => {}
            401 => {
                return Err(FieldError::new(
                    code::INVALID_CREDENTIALS,
                    "wrong username or password",
                ))
            }
            _ => {
                return Err(FieldError::new(
                    code::SERVER,
                    format!("sign-in: {}", r.reason()),
                ))
            }
        }
        let tokens = token_response(&r.body)?;
        let access = tokens.access_token.clone();
        let me = self.http.send(
            &base,
            &Request {
                method: Method::GET,
                path: "/api/v1/me",
                token: Some(&access),
                headers: vec![],
                body: None,
            },
        )?;
        if me.status != 200 {
            return Err(FieldError::new(
                code::SERVER,
                format!("/me: {}", me.reason()),
            ));
        }
        let user: UserInfo = serde_json::from_slice(&me.body)
            .map_err(|e| FieldError::new(code::SERVER, format!("/me: {e}")))?;
        let user_id = user.id.to_string();
        let other = self.tx(|c| {
            let prev = session::get(c)?;
            if prev.as_ref().is_some_and(|p| p.user_id != user_id) {
                // Another account: what it may see differs, so start the pull over.
                store::forget_pulled(c)?;
            }
            session::replace(c, &user)?;
            visits::unfinished_of_others(c, &user_id)
        })?;
        self.store_tokens(&tokens)?;
        Ok(SignInResult {
            user,
            other_users_outbox: other,
            warning: (other > 0).then(|| {
                format!("{other} visit(s) on this phone were recorded by another account; they are kept but not sent under this account")
            }),
        })
    }

    /// Signs out: asks the server to revoke the session when it can be reached (one try, no
    /// waiting when offline), then forgets the tokens on the phone. The outbox, drafts and photos
    /// stay: they go after the same user signs in again (the UI warns first when some wait).
    pub fn sign_out(&self) -> FieldResult<SignOutResult> {
        // Not in the middle of a push (its requests would lose their token halfway).
        let _guard = lock(&self.sync_lock);
        let sess = self.require_user()?;
        let revoked = sess.needs_sign_in == 0 && self.logout_on_server(&sess);
        self.tx(session::sign_out)?;
        let kept = self.db(|c| visits::pending_of(c, &sess.user_id))?;
        Ok(SignOutResult {
            revoked_on_server: revoked,
            outbox_kept: kept,
            message: (kept > 0)
                .then(|| format!("{kept} visit(s) wait on this phone; sign in again to send them")),
        })
    }

    /// `POST /auth/logout` with a usable access token (refreshing it first when it expired),
    /// one try each. True when the server answered that the session is over.
    fn logout_on_server(&self, sess: &Session) -> bool {
        let Ok(base) = self.base_url() else {
            return false;
        };
        if base.is_empty() {
            return false;
        }
        let mut access = sess
            .access_token
            .clone()
            .filter(|_| sess.access_expires_at > Utc::now().timestamp() + ACCESS_MARGIN_S);
        if access.is_none() {
            let Some(rt) = &sess.refresh_token else {
                return false;
            };
            let Ok(body) = serde_json::to_vec(&json!({ "refresh_token": rt })) else {
                return false;
            };
            let r = self.http.send_once(
                &base,
                &Request {
                    method: Method::POST,
                    path: "/api/v1/auth/refresh",
                    token: None,
                    headers: vec![("content-type", "application/json".into())],
                    body: Some(body),
                },
            );
            match r {
                Ok(r) if r.status == 200 => {
                    access = token_response(&r.body).ok().map(|t| t.access_token);
                }
                // The server already refuses the session: nothing left to revoke.
                Ok(r) if r.status == 401 || r.status == 403 => return true,
                _ => return false,
            }
        }
        let Some(access) = access else {
            return false;
        };
        let r = self.http.send_once(
            &base,
            &Request {
                method: Method::POST,
                path: "/api/v1/auth/logout",
                token: Some(&access),
                headers: vec![],
                body: None,
            },
        );
        matches!(r, Ok(r) if matches!(r.status, 200 | 204 | 401))
    }
}

/// The server's answer to a sign-in or a refresh.
fn token_response(body: &[u8]) -> FieldResult<TokenResponse> {
    serde_json::from_slice(body).map_err(|e| {
        FieldError::new(
            code::SERVER,
            format!("the server's token answer does not read ({e})"),
        )
    })
}
