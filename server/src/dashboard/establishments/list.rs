//! `GET /establishments`: search (case and diacritics ignored, the API's own search), filters by
//! unit, type and status, keyset paging. An htmx request (live search) gets only the results.

use doi178_shared::unit::UnitLevel;
use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use doi178_shared::establishment::{EstablishmentStatus, EstablishmentType};
use doi178_shared::Role;
use serde::Deserialize;

use super::unit_name;
use crate::auth::Actor;
use crate::dashboard::page::{render, Ctx, DashResult, Lang};
use crate::dashboard::Web;
use crate::db::{self, units::UnitRow, AnyConnection};
use crate::error::ApiResult;
use crate::service::establishments::{list_page, parse_list_query, ListQuery};
use crate::state::AppState;

/// Establishments per page.
pub const PAGE_SIZE: u32 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct Query {
    #[serde(default)]
    q: String,
    #[serde(default)]
    unit: String,
    #[serde(default, rename = "type")]
    establishment_type: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    cursor: String,
}

fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl Query {
    /// The query string of these filters (without the cursor), for links.
    fn encoded(&self, cursor: Option<&str>) -> String {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("unit", &self.unit),
            ("type", &self.establishment_type),
            ("status", &self.status),
        ] {
            if !v.trim().is_empty() {
                ser.append_pair(k, v.trim());
            }
        }
        if let Some(c) = cursor {
            ser.append_pair("cursor", c);
        }
        ser.finish()
    }

    fn is_filtered(&self) -> bool {
        [&self.q, &self.unit, &self.establishment_type, &self.status]
            .iter()
            .any(|v| !v.trim().is_empty())
    }
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub type_label: String,
    pub unit_name: String,
    pub address: String,
    pub status_label: String,
    pub status_class: &'static str,
    pub risk_label: String,
    pub risk_class: &'static str,
    pub last_inspected: Option<String>,
}

#[derive(Template)]
#[template(path = "establishments/results.html")]
pub struct Results {
    pub l: Lang,
    pub rows: Vec<Row>,
    pub next_url: Option<String>,
    pub first_url: Option<String>,
    pub filtered: bool,
}

#[derive(Template)]
#[template(path = "establishments/list.html")]
struct ListPage {
    ctx: Ctx,
    q: String,
    units: Vec<Opt>,
    types: Vec<Opt>,
    statuses: Vec<Opt>,
    can_import: bool,
    results: Results,
}

/// Units the filter offers: the communes of the actor's jurisdiction; for national users the
/// provinces, and the communes of the province chosen.
fn unit_options(
    c: &mut AnyConnection,
    actor: &Actor,
    l: Lang,
    selected: &str,
) -> ApiResult<Vec<Opt>> {
    let roots: Vec<UnitRow> = db::units::children(c, actor, None)?
        .into_iter()
        .filter(|u| u.valid_to.is_none())
        .collect();
    let mut out = Vec::new();
    let mut push = |u: &UnitRow, indent: bool| {
        out.push(Opt {
            value: u.id.clone(),
            label: if indent {
                format!("— {}", unit_name(l, u))
            } else {
                unit_name(l, u)
            },
            selected: u.id == selected,
        })
    };
    if actor.unit_ids().is_none() {
        // National: provinces, then the communes of the chosen one.
        let chosen_province = db::units::get(c, actor, selected)?.map(|u| {
            if u.level == UnitLevel::Province {
                u.id
            } else {
                u.parent_id.unwrap_or_default()
            }
        });
        for p in roots.iter().filter(|u| u.level == UnitLevel::Province) {
            push(p, false);
            if chosen_province.as_deref() == Some(p.id.as_str()) {
                for k in db::units::children(c, actor, Some(&p.id))? {
                    if k.valid_to.is_none() {
                        push(&k, true);
                    }
                }
            }
        }
        return Ok(out);
    }
    for root in &roots {
        push(root, false);
        if root.level != UnitLevel::Commune {
            for k in db::units::children(c, actor, Some(&root.id))? {
                if k.valid_to.is_none() {
                    push(&k, true);
                }
            }
        }
    }
    Ok(out)
}

fn names_of(c: &mut AnyConnection, ids: Vec<String>) -> QueryResult<BTreeMap<String, UnitRow>> {
    use crate::db::schema::admin_units;
    let rows: Vec<UnitRow> = admin_units::table
        .filter(admin_units::id.eq_any(ids))
        .select(UnitRow::as_select())
        .load(c)?;
    Ok(rows.into_iter().map(|u| (u.id.clone(), u)).collect())
}

fn last_inspections(
    c: &mut AnyConnection,
    ids: Vec<String>,
) -> QueryResult<BTreeMap<String, chrono::NaiveDate>> {
    use crate::db::schema::establishment_visit_summary as s;
    let rows: Vec<(String, Option<chrono::NaiveDate>)> = s::table
        .filter(s::establishment_id.eq_any(ids))
        .select((s::establishment_id, s::last_inspected_on))
        .load(c)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, d)| d.map(|d| (id, d)))
        .collect())
}

pub async fn page(
    web_user: Web,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Query>,
) -> DashResult<HttpResponse> {
    let query = query.into_inner();
    let l = web_user.lang;
    let params = parse_list_query(ListQuery {
        unit: some(&query.unit),
        establishment_type: some(&query.establishment_type),
        status: some(&query.status),
        q: some(&query.q),
        cursor: some(&query.cursor),
        limit: Some(PAGE_SIZE),
    })?;
    let actor = web_user.actor.clone();
    let db = state.db.clone();
    let fragment = web_user.htmx && !req.headers().contains_key("HX-History-Restore-Request");
    let selected_unit = query.unit.trim().to_string();
    let (page, names, last, units) = web::block(move || {
        db.read(|c| -> ApiResult<_> {
            let page = list_page(c, &actor, &params)?;
            let ids: Vec<String> = page.items.iter().map(|e| e.id.clone()).collect();
            let unit_ids: Vec<String> = page.items.iter().map(|e| e.unit_id.clone()).collect();
            let names = names_of(c, unit_ids)?;
            let last = last_inspections(c, ids)?;
            let units = if fragment {
                Vec::new()
            } else {
                unit_options(c, &actor, l, &selected_unit)?
            };
            Ok((page, names, last, units))
        })
    })
    .await??;
    let rows: Vec<Row> = page
        .items
        .into_iter()
        .map(|e| Row {
            type_label: l.label(&e.establishment_type).to_string(),
            unit_name: names
                .get(&e.unit_id)
                .map(|u| unit_name(l, u))
                .unwrap_or_else(|| e.unit_id.clone()),
            status_label: l.label(&e.status).to_string(),
            status_class: crate::dashboard::badge::establishment_status(e.status),
            risk_label: l.label(&e.risk).to_string(),
            risk_class: crate::dashboard::badge::risk(e.risk),
            last_inspected: last.get(&e.id).map(|d| l.date(d)),
            id: e.id,
            name: e.name,
            address: e.address,
        })
        .collect();
    let results = Results {
        l,
        rows,
        next_url: page
            .next_cursor
            .as_deref()
            .map(|c| format!("/establishments?{}", query.encoded(Some(c)))),
        first_url: some(&query.cursor).map(|_| format!("/establishments?{}", query.encoded(None))),
        filtered: query.is_filtered(),
    };
    if fragment {
        return render(&results);
    }
    let opts = |values: Vec<(&'static str, &'static str)>, chosen: &str| -> Vec<Opt> {
        values
            .into_iter()
            .map(|(v, label)| Opt {
                value: v.to_string(),
                label: label.to_string(),
                selected: v == chosen,
            })
            .collect()
    };
    let types = opts(
        EstablishmentType::ALL
            .iter()
            .map(|t| (t.as_str(), l.label(t)))
            .collect(),
        query.establishment_type.trim(),
    );
    let statuses = opts(
        EstablishmentStatus::ALL
            .iter()
            .map(|s| (s.as_str(), l.label(s)))
            .collect(),
        query.status.trim(),
    );
    let ctx = web_user.ctx(l.t("Cơ sở kinh doanh", "Establishments"), "/establishments");
    render(&ListPage {
        ctx,
        q: query.q.clone(),
        units,
        types,
        statuses,
        can_import: matches!(web_user.actor.role, Role::Admin | Role::ProvincialStaff),
        results,
    })
}
