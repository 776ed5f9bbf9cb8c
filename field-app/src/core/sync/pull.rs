//! Pull: `GET /api/v1/sync` page after page, each page applied in one transaction with its
//! cursor.

use doi178_shared::text::fold;
use reqwest::Method;
use serde_json::Value;

use crate::core::queries::team_visit;
use crate::core::{opt_s, s, FieldCore};
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
            let page = r.json()?;
            let has_more = page
                .get("has_more")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            self.tx(|c| apply_page(c, &page, report))?;
            report.pulled_pages += 1;
            report.cursor = opt_s(&page, "cursor");
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

/// Applies one page of `GET /sync` (one transaction, cursor included).
fn apply_page(c: &mut SqliteConnection, page: &Value, report: &mut SyncReport) -> FieldResult<()> {
    let list = |k: &str| {
        page.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for a in list("assignments") {
        store::assignments::upsert(
            c,
            &AssignmentRow {
                id: s(&a, "id"),
                team_id: s(&a, "team_id"),
                status: s(&a, "status"),
                window_start: s(&a, "window_start"),
                window_end: s(&a, "window_end"),
                body: a.to_string(),
            },
        )?;
        report.pulled_assignments += 1;
    }
    for id in list("revoked_assignments") {
        if let Some(id) = id.as_str() {
            store::assignments::delete(c, id)?;
            report.revoked_assignments += 1;
        }
    }
    for e in list("establishments") {
        let key = fold(
            &[
                "name",
                "address",
                "owner_name",
                "licence_no",
                "business_reg_no",
                "phone",
            ]
            .iter()
            .map(|k| s(&e, k))
            .collect::<Vec<_>>()
            .join(" "),
        );
        let loc = e.get("location").filter(|l| !l.is_null());
        establishments::upsert(
            c,
            &EstablishmentRow {
                id: s(&e, "id"),
                establishment_type: s(&e, "establishment_type"),
                search_key: key,
                lat: loc.and_then(|l| l.get("lat")).and_then(Value::as_f64),
                lon: loc.and_then(|l| l.get("lon")).and_then(Value::as_f64),
                body: e.to_string(),
            },
        )?;
        report.pulled_establishments += 1;
    }
    for t in list("templates") {
        store::templates::upsert(
            c,
            &TemplateRow {
                id: s(&t, "id"),
                establishment_type: s(&t, "establishment_type"),
                version: t.get("version").and_then(Value::as_i64).unwrap_or(0) as i32,
                valid_from: s(&t, "valid_from"),
                body: t.to_string(),
            },
        )?;
        report.pulled_templates += 1;
    }
    for v in list("visits") {
        let tv = team_visit(&v);
        store::team_visits::upsert(
            c,
            &TeamVisitRow {
                id: tv.id,
                establishment_id: tv.establishment_id,
                review_status: tv.review_status,
                review_comment: tv.review_comment,
                evidence_pending: tv.evidence_pending,
                body: v.to_string(),
            },
        )?;
        report.pulled_visits += 1;
    }
    // The roster comes whole with every page (a server without it leaves the copy alone).
    if let Some(members) = page.get("roster").and_then(Value::as_array) {
        let members: Vec<RosterMember> = members
            .iter()
            .map(|m| RosterMember {
                team_id: s(m, "team_id"),
                user_id: s(m, "user_id"),
                username: s(m, "username"),
                display_name: s(m, "display_name"),
                role: s(m, "role"),
                agency_id: opt_s(m, "agency_id"),
                agency_name: opt_s(m, "agency_name"),
            })
            .collect();
        store::roster::replace_all(c, &members)?;
        report.roster_members = members.len() as u32;
    }
    if let Some(cursor) = opt_s(page, "cursor") {
        store::kv::set_cursor(c, &cursor)?;
    }
    Ok(())
}
