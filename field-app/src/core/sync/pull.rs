//! Pull: `GET /api/v1/sync` page after page, each page applied in one transaction with its
//! cursor.

use doi178_shared::text::fold;
use doi178_shared::wire::SyncPage;
use reqwest::Method;

use crate::core::FieldCore;
use crate::error::{code, FieldError, FieldResult};
use crate::store::assignments::AssignmentRow;
use crate::store::establishments::EstablishmentRow;
use crate::store::team_visits::TeamVisitRow;
use crate::store::templates::TemplateRow;
use crate::store::Conn as SqliteConnection;
use crate::store::{self, establishments};
use crate::types::*;

impl FieldCore {
    pub(super) fn pull(&self, report: &mut SyncReport) -> FieldResult<()> {
        let mut restarted = false;
        for _ in 0..10_000 {
            let cursor = self.db(store::kv::cursor)?;
            let path = match &cursor {
                Some(c) => format!("/api/v1/sync?cursor={c}"),
                None => "/api/v1/sync".to_string(),
            };
            let r = self.authed(Method::GET, &path, vec![], None)?;
            if r.status == 400 && cursor.is_some() && !restarted {
                // The server does not know our cursor (restored from a backup): start over.
                restarted = true;
                self.db(store::kv::delete_cursor)?;
                continue;
            }
            if r.status != 200 {
                return Err(FieldError::new(
                    code::SERVER,
                    format!("sync: {}", r.reason()),
                ));
            }
            let page: SyncPage = serde_json::from_value(r.json()?).map_err(|e| {
                FieldError::new(
                    code::SERVER,
                    format!("sync: the server's page does not read ({e})"),
                )
            })?;
            let has_more = page.has_more;
            self.tx(|c| apply_page(c, &page, report))?;
            report.pulled_pages += 1;
            report.cursor = Some(page.cursor.clone());
            if !has_more {
                return Ok(());
            }
        }
        Err(FieldError::new(
            code::SERVER,
            "sync did not finish after 10000 pages",
        ))
    }
}

/// Applies one page of `GET /sync` (one transaction, cursor included). Each record is stored
/// with the typed fields the phone queries by and its body as the wire type writes it.
fn apply_page(
    c: &mut SqliteConnection,
    page: &SyncPage,
    report: &mut SyncReport,
) -> FieldResult<()> {
    for a in &page.assignments {
        store::assignments::upsert(
            c,
            &AssignmentRow {
                id: a.id.clone(),
                team_id: a.team_id.clone(),
                status: a.status.as_str().to_string(),
                window_start: a.window_start.to_string(),
                window_end: a.window_end.to_string(),
                body: serde_json::to_string(a)?,
            },
        )?;
        report.pulled_assignments += 1;
    }
    for id in &page.revoked_assignments {
        store::assignments::delete(c, id)?;
        report.revoked_assignments += 1;
    }
    for e in &page.establishments {
        let key = fold(
            &[
                Some(e.name.as_str()),
                Some(e.address.as_str()),
                e.owner_name.as_deref(),
                e.licence_no.as_deref(),
                e.business_reg_no.as_deref(),
                e.phone.as_deref(),
            ]
            .iter()
            .map(|v| v.unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" "),
        );
        establishments::upsert(
            c,
            &EstablishmentRow {
                id: e.id.clone(),
                establishment_type: e.establishment_type.as_str().to_string(),
                search_key: key,
                lat: e.location.map(|l| l.lat),
                lon: e.location.map(|l| l.lon),
                body: serde_json::to_string(e)?,
            },
        )?;
        report.pulled_establishments += 1;
    }
    for t in &page.templates {
        store::templates::upsert(
            c,
            &TemplateRow {
                id: t.id.clone(),
                establishment_type: t.establishment_type.as_str().to_string(),
                version: t.version,
                valid_from: t.valid_from.to_string(),
                body: serde_json::to_string(t)?,
            },
        )?;
        report.pulled_templates += 1;
    }
    for v in &page.visits {
        store::team_visits::upsert(
            c,
            &TeamVisitRow {
                id: v.id.clone(),
                establishment_id: v.establishment_id.to_string(),
                review_status: v.review_status.as_str().to_string(),
                review_comment: v.review_comment.clone(),
                evidence_pending: v.evidence_pending,
                body: serde_json::to_string(v)?,
            },
        )?;
        report.pulled_visits += 1;
    }
    // The roster comes whole with every page (a server without it leaves the copy alone).
    if let Some(members) = &page.roster {
        store::roster::replace_all(c, members)?;
        report.roster_members = members.len() as u32;
    }
    store::kv::set_cursor(c, &page.cursor)?;
    Ok(())
}
