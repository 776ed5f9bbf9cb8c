//! Pull sync for phones: everything that changed since the cursor, within the caller's team and
//! jurisdiction. The cursor is the global change number; each page reads at most `limit` changes
//! of each kind and ends where the first full kind ends (`doi178_shared::sync::page_end`), so that
//! every change is delivered exactly once; `has_more` says to ask again at once with the returned
//! cursor.

use actix_web::{web, HttpResponse};
use doi178_shared::assignment::AssignmentStatus;
use doi178_shared::sync::{page_end, sync_page_limit, KindScan, SyncCursor};
use doi178_shared::wire::{RosterMember, SyncPage};
use doi178_shared::ProblemCode;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::auth::Actor;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::routes::reference::template_view;
use crate::service::assignments::view as assignment_view;
use crate::service::establishments::EstablishmentView;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    /// The `cursor` of the previous answer; omit or `0` for a first sync.
    pub cursor: Option<String>,
    /// Most changes of each kind in this page, 1 to 500 (default 500): a phone on a poor link
    /// asks for smaller pages.
    pub limit: Option<u32>,
}

/// A sync page as the server writes it: each visit is the JSON text its view already is.
type SyncResponse = SyncPage<Box<RawValue>>;

/// Changes since `cursor` for the signed-in phone.
#[utoipa::path(get, path = "/api/v1/sync", tag = "sync", params(SyncQuery), security(("bearer" = [])),
    responses((status = 200, body = SyncPage), (status = 400, body = crate::error::Problem)))]
pub async fn pull(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<SyncQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let after = match q.cursor.as_deref() {
        None | Some("") => 0,
        Some(raw) => SyncCursor::parse(raw)?.get(),
    };
    let limit = sync_page_limit(q.limit)?;
    let db = state.db.clone();
    let res = web::block(move || {
        db.read(|c| -> ApiResult<SyncResponse> {
            let high = db::current_seq(c)?;
            if after > high {
                return Err(ApiError::bad_request(
                    ProblemCode::Invalid,
                    "cursor",
                    "cursor is ahead of the server; sync again from 0",
                ));
            }
            let page = i64::from(limit);
            // Each kind in change order, at most `page` rows read. Only the caller's own teams'
            // assignments and visits: staff do not pull other teams' work to a phone.
            let mine = db::assignments::changed_since(c, &actor, after, high, page)?;
            let mut establishments =
                db::establishments::changed_since(c, &actor, after, high, page)?;
            let mut templates = db::templates::changed_since(c, after, high, page)?;
            let mut visits = db::visits::changed_since(c, &actor, after, high, page)?;
            let end = page_end(
                high,
                limit as usize,
                &[
                    KindScan::of(mine.iter().map(|(a, _)| a.seq)),
                    KindScan::of(establishments.iter().map(|e| e.seq)),
                    KindScan::of(templates.iter().map(|t| t.seq)),
                    KindScan::of(visits.iter().map(|v| v.seq)),
                ],
            );
            // What lies past the end of the page comes with the next one.
            establishments.retain(|e| e.seq <= end);
            templates.retain(|t| t.seq <= end);
            visits.retain(|v| v.seq <= end);
            let mine: Vec<_> = mine
                .into_iter()
                .filter(|(a, seen)| *seen && a.seq <= end)
                .map(|(a, _)| a)
                .collect();
            let mut assignments = Vec::new();
            let mut revoked = Vec::new();
            for a in mine {
                if a.status == AssignmentStatus::Cancelled {
                    revoked.push(a.id);
                } else {
                    assignments.push(assignment_view(c, a)?);
                }
            }
            let visits = crate::service::visits::views(c, &visits)?;
            // Only the caller's own teams, whatever their role (staff see no roster here).
            let roster = db::teams::roster(c, &actor.team_ids())?
                .into_iter()
                .map(
                    |(team_id, user_id, username, display_name, role, agency_id, agency_name)| {
                        RosterMember {
                            team_id,
                            user_id,
                            username,
                            display_name,
                            role,
                            agency_id,
                            agency_name,
                        }
                    },
                )
                .collect();
            Ok(SyncResponse {
                cursor: SyncCursor::new(end).to_string(),
                has_more: end < high,
                assignments,
                revoked_assignments: revoked,
                establishments: establishments
                    .into_iter()
                    .map(EstablishmentView::from)
                    .collect(),
                templates: templates
                    .into_iter()
                    .map(template_view)
                    .collect::<ApiResult<_>>()?,
                visits,
                roster: Some(roster),
            })
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(res))
}
