//! Establishments (cơ sở): their view and the list the API and the dashboard page through.

use doi178_shared::establishment::{EstablishmentStatus, EstablishmentType};
use doi178_shared::pagination::{PageCursor, PageLimit};
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::db::{self, establishments::EstablishmentRow};
use crate::error::{ApiError, ApiResult};

pub use doi178_shared::wire::{EstablishmentView, Location};

impl From<EstablishmentRow> for EstablishmentView {
    fn from(r: EstablishmentRow) -> Self {
        EstablishmentView {
            location: match (r.lat, r.lon) {
                (Some(lat), Some(lon)) => Some(Location { lat, lon }),
                _ => None,
            },
            id: r.id,
            name: r.name,
            establishment_type: r.establishment_type,
            unit_id: r.unit_id,
            address: r.address,
            business_reg_no: r.business_reg_no,
            licence_no: r.licence_no,
            licence_issued_on: r.licence_issued_on,
            licence_expires_on: r.licence_expires_on,
            antt_cert_no: r.antt_cert_no,
            owner_name: r.owner_name,
            phone: r.phone,
            status: r.status,
            opened_on: r.opened_on,
            closed_on: r.closed_on,
            risk: r.risk,
            commitment_signed: r.commitment_signed,
            commitment_signed_on: r.commitment_signed_on,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.seq,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EstablishmentPage {
    pub items: Vec<EstablishmentView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Unit id (province or commune); includes every unit below it.
    pub unit: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub establishment_type: Option<String>,
    pub status: Option<String>,
    /// Search in name, address, owner and licence numbers; ignores case and diacritics.
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u32>,
}

/// A parsed and checked `ListQuery`.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub unit: Option<String>,
    /// Type code (`karaoke`…).
    pub establishment_type: Option<EstablishmentType>,
    pub status: Option<EstablishmentStatus>,
    pub q: Option<String>,
    pub after: Option<(String, String)>,
    pub limit: u32,
}

/// Checks the query of `GET /establishments` (each problem names its parameter).
pub fn parse_list_query(q: ListQuery) -> ApiResult<ListParams> {
    let limit = PageLimit::parse(q.limit)?;
    let establishment_type = q
        .establishment_type
        .as_deref()
        .map(str::parse::<EstablishmentType>)
        .transpose()
        .map_err(|e| ApiError::from(e).field("type"))?;
    let status = q
        .status
        .as_deref()
        .map(str::parse::<EstablishmentStatus>)
        .transpose()?;
    let after = q.cursor.as_deref().map(PageCursor::decode).transpose()?;
    Ok(ListParams {
        unit: q.unit,
        establishment_type,
        status,
        q: q.q,
        after: after.map(|(name, id)| (name, id.to_string())),
        limit: limit.get(),
    })
}

/// One page of the establishments `actor` may see that match `p`, ordered by name: what
/// `GET /establishments` answers (the dashboard's list uses it too).
pub fn list_page(
    c: &mut db::AnyConnection,
    actor: &Actor,
    p: &ListParams,
) -> ApiResult<EstablishmentPage> {
    let unit_ids = match &p.unit {
        Some(unit) => {
            let unit = &db::units::canonical_id(c, unit)?;
            if !actor.sees_unit(unit) {
                return Err(ApiError::not_found("unit").field("unit"));
            }
            Some(
                db::units::subtree_ids(c, std::slice::from_ref(unit))?
                    .into_iter()
                    .collect(),
            )
        }
        None => None,
    };
    let filter = db::establishments::Filter {
        unit_ids,
        establishment_type: p.establishment_type,
        status: p.status,
        q: p.q.clone(),
        after: p.after.clone(),
        limit: i64::from(p.limit) + 1,
    };
    let (rows, next_cursor) = crate::service::page::page_of(
        db::establishments::list(c, actor, &filter)?,
        p.limit as usize,
        |r| crate::service::page::key_cursor(&r.name, &r.id),
    );
    Ok(EstablishmentPage {
        items: rows.into_iter().map(EstablishmentView::from).collect(),
        next_cursor,
    })
}
