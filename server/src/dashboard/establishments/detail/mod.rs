//! `GET /establishments/{id}`: one establishment with its papers, a small map, the visits (team,
//! outcome, violations, minutes, review, photos), follow-ups and linked tips. Outside the user's
//! jurisdiction it is "not found", exactly like an unknown id (and like the API).
//!
//! Photos are served by `/establishments/photos/{id}` (and `/thumbnail`) with the session cookie,
//! through the API's own check (`service::photos::read_photo`): never without it.

mod history;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::unit_name;
use crate::dashboard::page::{render, Ctx, DashResult};
use crate::dashboard::Web;
use crate::extract::parse_id;
use crate::service::establishments::EstablishmentView;
use crate::state::AppState;
use crate::storage::Variant;

use self::history::{geo_url_for, load, Fact, FollowUp, Loaded, Tip, Visit};

#[derive(Template)]
#[template(path = "establishments/detail.html")]
struct DetailPage {
    ctx: Ctx,
    e: EstablishmentView,
    type_label: String,
    status_label: String,
    status_class: &'static str,
    risk_label: String,
    risk_class: &'static str,
    unit_name: String,
    facts: Vec<Fact>,
    lat: String,
    lon: String,
    has_location: bool,
    geo_url: String,
    visits: Vec<Visit>,
    follow_ups: Vec<FollowUp>,
    tips: Vec<Tip>,
    shows_tips: bool,
}

pub async fn page(
    web_user: Web,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> DashResult<HttpResponse> {
    let id = parse_id(&id, "establishment")?;
    let l = web_user.lang;
    let actor = web_user.actor.clone();
    let db = state.db.clone();
    let loaded = web::block(move || db.read(|c| load(c, &actor, id, l))).await??;
    let Loaded {
        est,
        unit,
        visits,
        follow_ups,
        tips,
    } = loaded;
    let e = EstablishmentView::from(est);
    let yes_no = |b: bool| {
        if b {
            l.t("Có", "Yes").to_string()
        } else {
            l.t("Chưa ký", "No").to_string()
        }
    };
    let mut facts = Vec::new();
    let mut fact = |label: &'static str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            facts.push(Fact { label, value: v });
        }
    };
    fact(
        l.t("Số đăng ký kinh doanh", "Business registration no."),
        e.business_reg_no.clone(),
    );
    fact(l.t("Số giấy phép", "Licence no."), e.licence_no.clone());
    fact(
        l.t("Ngày cấp giấy phép", "Licence issued"),
        e.licence_issued_on.map(|d| l.date(&d)),
    );
    fact(
        l.t("Ngày hết hạn giấy phép", "Licence expires"),
        e.licence_expires_on.map(|d| l.date(&d)),
    );
    fact(
        l.t(
            "Số GCN đủ điều kiện ANTT",
            "Security (ANTT) certificate no.",
        ),
        e.antt_cert_no.clone(),
    );
    fact(l.t("Chủ cơ sở", "Owner"), e.owner_name.clone());
    fact(l.t("Điện thoại", "Phone"), e.phone.clone());
    fact(
        l.t("Ngày hoạt động", "Opened"),
        e.opened_on.map(|d| l.date(&d)),
    );
    fact(
        l.t("Ngày đóng cửa", "Closed"),
        e.closed_on.map(|d| l.date(&d)),
    );
    let commitment = if e.commitment_signed {
        match e.commitment_signed_on {
            Some(d) => format!("{} ({})", yes_no(true), l.date(&d)),
            None => yes_no(true),
        }
    } else {
        yes_no(false)
    };
    fact(l.t("Đã ký cam kết", "Commitment signed"), Some(commitment));
    let (lat, lon) = e
        .location
        .map(|p| (p.lat.to_string(), p.lon.to_string()))
        .unwrap_or_default();
    let ctx = web_user.ctx(&e.name, "/establishments");
    render(&DetailPage {
        type_label: l.label(&e.establishment_type).to_string(),
        status_label: l.label(&e.status).to_string(),
        status_class: crate::dashboard::badge::establishment_status(e.status),
        risk_label: l.label(&e.risk).to_string(),
        risk_class: crate::dashboard::badge::risk(e.risk),
        unit_name: unit
            .as_ref()
            .map(|u| unit_name(l, u))
            .unwrap_or_else(|| e.unit_id.clone()),
        geo_url: unit
            .as_ref()
            .map(|u| geo_url_for(&u.path))
            .unwrap_or_default(),
        has_location: e.location.is_some(),
        lat,
        lon,
        facts,
        visits,
        follow_ups,
        tips,
        shows_tips: web_user.actor.role != doi178_shared::Role::Inspector,
        e,
        ctx,
    })
}

async fn serve_photo(
    web_user: Web,
    state: web::Data<AppState>,
    id: String,
    variant: Variant,
) -> DashResult<HttpResponse> {
    let id = parse_id(&id, "photo")?;
    let db = state.db.clone();
    let store = state.photos.clone();
    let actor = web_user.actor;
    let bytes = web::block(move || {
        crate::service::photos::read_photo(&db, store.as_ref(), &actor, id, variant)
    })
    .await??;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .body(bytes))
}

/// A visit photo at full size, for a signed-in user who may see it.
pub async fn photo(
    web_user: Web,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> DashResult<HttpResponse> {
    serve_photo(web_user, state, id.into_inner(), Variant::Full).await
}

/// A visit photo's thumbnail, for a signed-in user who may see it.
pub async fn thumbnail(
    web_user: Web,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> DashResult<HttpResponse> {
    serve_photo(web_user, state, id.into_inner(), Variant::Thumbnail).await
}
