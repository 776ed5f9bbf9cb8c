//! What the screens show: the status, the outbox, today's assignments, establishments near
//! by, an establishment's card, checklists and the team roster.

use std::collections::{BTreeMap, HashSet};

use chrono::{NaiveDate, Utc};
use doi178_shared::geo::haversine_m;
use doi178_shared::text::fold;
use doi178_shared::time::vietnam_date;
use uuid::Uuid;

use crate::core::{bad, FieldCore};
use crate::error::{code, FieldError, FieldResult};
use crate::outbox::VisitStatus;
use crate::store::photos::PhotoRow;
use crate::store::session::Session;
use crate::store::visits::VisitRow;
use crate::store::Conn as SqliteConnection;
use crate::store::{self, establishments, photos, visits};
use crate::types::*;

impl FieldCore {
    pub fn status(&self) -> FieldResult<Status> {
        let settings = self.settings_get()?;
        let sess = self.session()?;
        let (cursor, last_sync_at, last_sync_error) = self.db(|c| {
            Ok((
                store::kv::cursor(c)?,
                store::kv::last_sync(c)?,
                store::kv::last_error(c)?,
            ))
        })?;
        let me = sess.as_ref().map(|s| s.user_id.clone()).unwrap_or_default();
        let rows = self.db(visits::owners_and_statuses)?;
        let mut by_status = BTreeMap::new();
        let (mut pending, mut other) = (0u32, 0u32);
        for (owner, st) in rows {
            let status = VisitStatus::parse(&st).unwrap_or(VisitStatus::Failed);
            if owner == me {
                *by_status.entry(st).or_insert(0u32) += 1;
                if status.is_pending() {
                    pending += 1;
                }
            } else if status != VisitStatus::Done {
                other += 1;
            }
        }
        let needs = sess
            .as_ref()
            .is_some_and(|s| s.needs_sign_in != 0 || s.refresh_token.is_none());
        let message = if needs {
            Some(format!(
                "sign in again to send {pending} waiting visit(s); nothing recorded is lost"
            ))
        } else if other > 0 {
            Some(format!("{other} visit(s) recorded by another account are kept but not sent under this account"))
        } else {
            None
        };
        Ok(Status {
            server_url: settings.server_url,
            signed_in: sess.is_some() && !needs,
            needs_sign_in: needs,
            user: sess.as_ref().map(Session::user).transpose()?,
            cursor,
            last_sync_at,
            last_sync_error,
            pending,
            by_status,
            other_users_outbox: other,
            message,
        })
    }

    pub(super) fn outbox_item(
        &self,
        c: &mut SqliteConnection,
        v: &VisitRow,
    ) -> FieldResult<OutboxItem> {
        let name = establishments::body(c, &v.establishment_id)?
            .and_then(|b| serde_json::from_str::<EstablishmentView>(&b).ok())
            .map(|e| e.name);
        Ok(OutboxItem {
            visit_id: v.id.clone(),
            establishment_id: v.establishment_id.clone(),
            establishment_name: name,
            status: VisitStatus::parse(&v.status).unwrap_or(VisitStatus::Failed),
            owner_user_id: v.owner_user_id.clone(),
            created_at: v.created_at.clone(),
            submitted_at: v.submitted_at.clone(),
            acknowledged_at: v.acknowledged_at.clone(),
            server_status: v.server_status,
            attempts: v.attempts,
            last_error: v.last_error.clone(),
            distance_m: v.distance_m,
            photos: photos::of_visit(c, &v.id)?
                .iter()
                .map(PhotoRow::item)
                .collect(),
        })
    }

    /// Every submitted visit on the phone (all accounts), oldest first, with its photos.
    pub fn outbox(&self) -> FieldResult<Vec<OutboxItem>> {
        self.db(|c| {
            let rows = visits::submitted(c)?;
            rows.iter().map(|r| self.outbox_item(c, r)).collect()
        })
    }

    /// Released assignments whose window contains `date` (today in Vietnam by default).
    pub fn assignments_today(&self, date: Option<NaiveDate>) -> FieldResult<Vec<AssignmentCard>> {
        let day = date.unwrap_or_else(|| vietnam_date(Utc::now())).to_string();
        let drafts = self.local_drafts()?;
        self.db(|c| {
            let rows = store::assignments::released_on(c, &day)?;
            let mut out = Vec::new();
            for body in rows {
                let a: AssignmentView = serde_json::from_str(&body)?;
                let mut ests = Vec::new();
                for id in &a.establishment_ids {
                    if let Some(b) = establishments::body(c, id)? {
                        ests.push(summary(&b, None)?);
                    }
                }
                let visited = drafts
                    .iter()
                    .filter(|d| d.assignment_id.is_some_and(|x| x.to_string() == a.id))
                    .map(|d| d.establishment_id.to_string())
                    .collect::<HashSet<_>>();
                let mut visited: Vec<String> = visited.into_iter().collect();
                visited.sort();
                out.push(AssignmentCard {
                    id: a.id,
                    team_id: a.team_id,
                    kind: a.kind,
                    status: a.status,
                    window_start: a.window_start,
                    window_end: a.window_end,
                    note: a.note,
                    establishments: ests,
                    visited,
                });
            }
            Ok(out)
        })
    }

    fn local_drafts(&self) -> FieldResult<Vec<VisitDraft>> {
        self.db(|c| {
            let rows = visits::drafts(c)?;
            rows.iter()
                .map(|r| serde_json::from_str(r).map_err(FieldError::from))
                .collect()
        })
    }

    /// Establishments matching `query` (every word, ignoring case and diacritics), nearest
    /// first from (`lat`, `lon`) when given (those without a location last), else by name.
    pub fn establishments_nearby(&self, q: NearbyQuery) -> FieldResult<Vec<EstablishmentSummary>> {
        let from = match (q.lat, q.lon) {
            (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Some((a, b)),
            (None, None) => None,
            _ => return Err(bad("lat", "give both lat and lon, as finite numbers")),
        };
        let limit = q.limit.unwrap_or(50).clamp(1, 500) as usize;
        let words: Vec<String> = fold(q.query.as_deref().unwrap_or(""))
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| {
                w.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            })
            .collect();
        let bodies = self.db(|c| establishments::matching(c, &words))?;
        let mut out = bodies
            .iter()
            .map(|b| summary(b, from))
            .collect::<FieldResult<Vec<_>>>()?;
        out.sort_by(|a, b| match (a.distance_m, b.distance_m) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => fold(&a.name).cmp(&fold(&b.name)),
        });
        out.truncate(limit);
        Ok(out)
    }

    /// The establishment card: the server's record, the assignments listing it, the team's
    /// visits (review status and comment), this phone's visits, and its checklist.
    pub fn establishment(&self, id: Uuid) -> FieldResult<EstablishmentCard> {
        let key = id.to_string();
        let body = self
            .db(|c| establishments::body(c, &key))?
            .ok_or_else(|| FieldError::not_found("establishment"))?;
        let assignments: Vec<String> = self.db(|c| {
            let rows = store::assignments::all(c)?;
            Ok(rows
                .into_iter()
                .filter(|(_, b)| {
                    serde_json::from_str::<AssignmentView>(b)
                        .is_ok_and(|a| a.establishment_ids.contains(&key))
                })
                .map(|(i, _)| i)
                .collect())
        })?;
        let team_visits = self.db(|c| {
            let rows = store::team_visits::of_establishment(c, &key)?;
            let mut out: Vec<TeamVisit> = rows
                .iter()
                .filter_map(|b| serde_json::from_str::<VisitView>(b).ok())
                .map(|v| team_visit(&v))
                .collect();
            out.sort_by_key(|v| std::cmp::Reverse(v.started_at));
            Ok(out)
        })?;
        let local_visits = self.db(|c| {
            let rows = visits::of_establishment(c, &key)?;
            rows.iter()
                .map(|r| self.outbox_item(c, r))
                .collect::<FieldResult<Vec<_>>>()
        })?;
        Ok(EstablishmentCard {
            establishment: serde_json::from_str(&body)?,
            assignments,
            team_visits,
            local_visits,
            checklist: self.checklist(id).ok(),
        })
    }

    /// The checklist template for the establishment's type: the newest version already valid
    /// (Vietnam date), else the newest.
    pub fn checklist(&self, establishment_id: Uuid) -> FieldResult<Checklist> {
        let key = establishment_id.to_string();
        let today = vietnam_date(Utc::now()).to_string();
        self.db(|c| {
            let ty = establishments::type_of(c, &key)?
                .ok_or_else(|| FieldError::not_found("establishment"))?;
            let rows = store::templates::of_type(c, &ty)?;
            let body = rows
                .iter()
                .find(|(from, _)| from.as_str() <= today.as_str())
                .or(rows.first())
                .map(|(_, b)| b.clone())
                .ok_or_else(|| {
                    FieldError::new(
                        code::NOT_FOUND,
                        format!("no checklist template for type {ty} on this phone; sync first"),
                    )
                })?;
            let t: TemplateView = serde_json::from_str(&body)?;
            Ok(Checklist {
                template_id: Uuid::parse_str(&t.id).map_err(|_| {
                    FieldError::new(
                        code::SERVER,
                        format!("template id {:?} is not a UUID", t.id),
                    )
                })?,
                version: u32::try_from(t.version).unwrap_or(0),
                establishment_type: t.establishment_type,
                title: t.title,
                valid_from: t.valid_from,
                items: t.items,
            })
        })
    }

    /// The members of `team` (default: every team of the signed-in user), from the roster the
    /// last pull sync carried, by team then name.
    pub fn team_roster(&self, q: RosterQuery) -> FieldResult<Vec<RosterMember>> {
        let user = self.require_user()?.user()?;
        let teams: Vec<String> = match q.team_id {
            Some(t) if user.teams.iter().any(|m| m.team_id == t) => vec![t.to_string()],
            Some(_) => return Err(bad("team_id", "you are not a member of this team")),
            None => user.teams.iter().map(|m| m.team_id.to_string()).collect(),
        };
        self.db(|c| {
            let mut rows = store::roster::of_teams(c, &teams)?;
            rows.sort_by(|a, b| {
                a.team_id
                    .cmp(&b.team_id)
                    .then_with(|| fold(&a.display_name).cmp(&fold(&b.display_name)))
            });
            Ok(rows)
        })
    }
}

pub(super) fn summary(body: &str, from: Option<(f64, f64)>) -> FieldResult<EstablishmentSummary> {
    let e: EstablishmentView = serde_json::from_str(body)?;
    let lat = e.location.map(|l| l.lat);
    let lon = e.location.map(|l| l.lon);
    let distance_m = match (from, lat, lon) {
        (Some((a, b)), Some(la), Some(lo)) => Some(haversine_m(a, b, la, lo)),
        _ => None,
    };
    Ok(EstablishmentSummary {
        id: e.id,
        name: e.name,
        address: e.address,
        establishment_type: e.establishment_type,
        status: e.status,
        risk: e.risk,
        lat,
        lon,
        distance_m,
    })
}

pub(super) fn team_visit(v: &VisitView) -> TeamVisit {
    TeamVisit {
        id: v.id.clone(),
        establishment_id: v.establishment_id.to_string(),
        review_status: v.review_status,
        review_comment: v.review_comment.clone(),
        evidence_pending: v.evidence_pending,
        started_at: v.started_at,
        outcome: v.outcome,
    }
}
