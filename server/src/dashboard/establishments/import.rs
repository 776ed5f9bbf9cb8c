//! Import of establishment lists from the business-registration office (CSV / XLSX), for
//! provincial staff and administrators: upload → preview of every row (values as read, errors
//! naming the column, likely duplicates) → confirm → the importer saves the valid rows in one
//! transaction and reports what it did.
//!
//! The file is parsed and checked by the importer itself (`import::preview`,
//! `import::import_valid_rows`, the same code as the `import` command). Between the preview and the
//! confirmation the uploaded bytes wait in memory under a random token bound to the user, for an
//! hour at most (one pending preview per user: a newer upload replaces it).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use doi178_shared::establishment::{EstablishmentStatus, EstablishmentType, RiskLevel};
use doi178_shared::Role;
use futures_util::StreamExt;
use uuid::Uuid;

use crate::dashboard::page::{render, render_status, Ctx, DashResult, Lang};
use crate::dashboard::Web;
use crate::error::ApiError;
use crate::service::import::duplicates::{Other, Reason};
use crate::service::import::{self, Field, ImportError, PreviewRow, RowAction};
use crate::state::AppState;

/// Largest file accepted (a province's list is far smaller).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// How long an uploaded file waits for its confirmation.
const KEEP_FOR: Duration = Duration::from_secs(3600);
/// Uploads kept at most (the oldest go first); each user has one pending preview at a time.
const KEEP_AT_MOST: usize = 16;

const IMPORTERS: &[Role] = &[Role::Admin, Role::ProvincialStaff];

struct Upload {
    user: Uuid,
    name: String,
    bytes: Vec<u8>,
    at: Instant,
}

fn uploads() -> &'static Mutex<HashMap<String, Upload>> {
    static UPLOADS: OnceLock<Mutex<HashMap<String, Upload>>> = OnceLock::new();
    UPLOADS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn keep(upload: Upload) -> String {
    let token = Uuid::new_v4().to_string();
    let mut map = uploads().lock().unwrap_or_else(|e| e.into_inner());
    map.retain(|_, u| u.at.elapsed() < KEEP_FOR && u.user != upload.user);
    while map.len() >= KEEP_AT_MOST {
        let oldest = map.iter().min_by_key(|(_, u)| u.at).map(|(k, _)| k.clone());
        match oldest {
            Some(k) => map.remove(&k),
            None => break,
        };
    }
    map.insert(token.clone(), upload);
    token
}

fn take(token: &str, user: Uuid) -> Option<Upload> {
    let mut map = uploads().lock().unwrap_or_else(|e| e.into_inner());
    match map.get(token) {
        Some(u) if u.user == user && u.at.elapsed() < KEEP_FOR => map.remove(token),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "establishments/import.html")]
struct ImportPage {
    ctx: Ctx,
    max_mb: usize,
}

pub async fn page(web_user: Web) -> DashResult<HttpResponse> {
    web_user
        .actor
        .require(IMPORTERS, "import establishment lists")?;
    let ctx = web_user.ctx(
        web_user.t("Nhập danh sách cơ sở", "Import establishments"),
        "/establishments",
    );
    render(&ImportPage {
        ctx,
        max_mb: MAX_UPLOAD_BYTES / 1024 / 1024,
    })
}

/// A problem with the upload, shown in place of the preview.
#[derive(Template)]
#[template(path = "establishments/import_problem.html")]
struct Problem {
    l: Lang,
    title: String,
    detail: String,
}

fn problem(l: Lang, status: StatusCode, title: &str, detail: String) -> DashResult<HttpResponse> {
    render_status(
        status,
        &Problem {
            l,
            title: title.to_string(),
            detail,
        },
    )
}

pub struct DupView {
    pub text: String,
    pub link: Option<String>,
}

pub struct RowView {
    pub row: usize,
    pub state_label: String,
    pub state_class: &'static str,
    pub cells: Vec<(String, bool)>,
    pub errors: Vec<String>,
    pub dups: Vec<DupView>,
    pub existing: Option<(String, String)>,
    pub importable: bool,
}

#[derive(Template)]
#[template(path = "establishments/preview.html")]
struct PreviewView {
    l: Lang,
    token: String,
    file_name: String,
    source: String,
    headers: Vec<String>,
    ignored: String,
    rows: Vec<RowView>,
    inserts: usize,
    updates: usize,
    unchanged: usize,
    invalid: usize,
    duplicates: usize,
    remapped: usize,
    importable: usize,
}

fn cell(l: Lang, r: &PreviewRow, field: Field) -> String {
    let rec = &r.record;
    let d = |v: &Option<chrono::NaiveDate>| v.as_ref().map(|d| l.date(d)).unwrap_or_default();
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let f = |v: &Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    match field {
        Field::Name => s(&rec.name),
        Field::Type => rec
            .establishment_type
            .map(|t: EstablishmentType| l.label(&t).to_string())
            .unwrap_or_default(),
        Field::Unit => match (&r.unit, &rec.unit) {
            (Some((id, name)), _) => format!("{name} ({id})"),
            (None, raw) => s(raw),
        },
        Field::Address => s(&rec.address),
        Field::BusinessRegNo => s(&rec.business_reg_no),
        Field::LicenceNo => s(&rec.licence_no),
        Field::LicenceIssuedOn => d(&rec.licence_issued_on),
        Field::LicenceExpiresOn => d(&rec.licence_expires_on),
        Field::AnttCertNo => s(&rec.antt_cert_no),
        Field::OwnerName => s(&rec.owner_name),
        Field::Phone => s(&rec.phone),
        Field::Lat => f(&rec.lat),
        Field::Lon => f(&rec.lon),
        Field::Status => rec
            .status
            .map(|v: EstablishmentStatus| l.label(&v).to_string())
            .unwrap_or_default(),
        Field::OpenedOn => d(&rec.opened_on),
        Field::ClosedOn => d(&rec.closed_on),
        Field::Risk => rec
            .risk
            .map(|v: RiskLevel| l.label(&v).to_string())
            .unwrap_or_default(),
        Field::CommitmentSigned => rec
            .commitment_signed
            .map(|b| {
                if b {
                    l.t("Có", "Yes")
                } else {
                    l.t("Không", "No")
                }
                .to_string()
            })
            .unwrap_or_default(),
        Field::CommitmentSignedOn => d(&rec.commitment_signed_on),
    }
}

fn dup_view(l: Lang, reason: &Reason, other: &Other) -> DupView {
    let what = match reason {
        Reason::SameNumber { number } => format!(
            "{} {number}",
            l.t(
                "Trùng số giấy phép / ĐKKD",
                "Same licence / registration number"
            )
        ),
        Reason::CloseNameAddress => l
            .t(
                "Tên và địa chỉ gần giống",
                "Close name and address, same commune, as",
            )
            .to_string(),
    };
    match other {
        Other::Registered {
            id, name, address, ..
        } => DupView {
            text: format!(
                "{what} {} “{name}” ({address})",
                l.t("với cơ sở đã có", "as the registered")
            ),
            link: Some(format!("/establishments/{id}")),
        },
        Other::Row(n) => DupView {
            text: format!("{what} {} {n}", l.t("với dòng", "as row")),
            link: None,
        },
    }
}

fn preview_view(l: Lang, token: String, file_name: String, p: import::Preview) -> PreviewView {
    let headers: Vec<String> = p.columns.iter().map(|(_, h)| h.clone()).collect();
    let mut duplicates = 0;
    let mut importable = 0;
    let mut new_rows = 0;
    let rows: Vec<RowView> = p
        .rows
        .iter()
        .map(|r| {
            let bad_columns: BTreeSet<&str> = r
                .errors
                .iter()
                .filter_map(|e| e.column.as_deref())
                .collect();
            let cells = p
                .columns
                .iter()
                .map(|(f, h)| {
                    let bad = bad_columns.contains(h.as_str());
                    // A value that could not be read is shown as written.
                    let shown = if bad {
                        r.raw.get(f).cloned().unwrap_or_default()
                    } else {
                        cell(l, r, *f)
                    };
                    (shown, bad)
                })
                .collect();
            let errors = r
                .errors
                .iter()
                .map(|e| match &e.column {
                    Some(c) => format!("{} “{c}”: {}", l.t("Cột", "Column"), e.message),
                    None => e.message.clone(),
                })
                .collect();
            let dups: Vec<DupView> = r
                .duplicates
                .iter()
                .map(|d| dup_view(l, &d.reason, &d.other))
                .collect();
            let valid = r.errors.is_empty();
            let (state_label, state_class, existing) = if !valid {
                (l.t("Lỗi", "Error"), "bad", None)
            } else if !dups.is_empty() {
                (l.t("Có thể trùng", "Possible duplicate"), "warn", None)
            } else {
                match &r.action {
                    Some(RowAction::Update { id, name }) => (
                        l.t("Cập nhật", "Update"),
                        "",
                        Some((id.clone(), name.clone())),
                    ),
                    Some(RowAction::Unchanged { id, name }) => (
                        l.t("Không đổi", "Unchanged"),
                        "",
                        Some((id.clone(), name.clone())),
                    ),
                    _ => {
                        new_rows += 1;
                        (l.t("Thêm mới", "New"), "ok", None)
                    }
                }
            };
            if valid && !dups.is_empty() {
                duplicates += 1;
            } else if valid {
                importable += 1;
            }
            RowView {
                row: r.record.row,
                state_label: state_label.to_string(),
                state_class,
                cells,
                errors,
                importable: valid,
                dups,
                existing,
            }
        })
        .collect();
    PreviewView {
        l,
        token,
        file_name,
        source: p.source,
        headers,
        ignored: p.ignored_columns.join(", "),
        rows,
        inserts: new_rows,
        updates: p.updates,
        unchanged: p.unchanged,
        invalid: p.invalid,
        duplicates,
        remapped: p.remapped,
        importable,
    }
}

/// Reads the `file` field of the form: (file name, bytes).
async fn read_upload(
    l: Lang,
    mut payload: Multipart,
) -> Result<(String, Vec<u8>), DashResult<HttpResponse>> {
    let bad = |title: &str, detail: String, status: StatusCode| problem(l, status, title, detail);
    while let Some(field) = payload.next().await {
        let mut field = match field {
            Ok(f) => f,
            Err(e) => {
                return Err(bad(
                    l.t("Không đọc được tệp tải lên", "The upload could not be read"),
                    format!("{e}"),
                    StatusCode::BAD_REQUEST,
                ))
            }
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .unwrap_or_default()
            .to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    return Err(bad(
                        l.t("Không đọc được tệp tải lên", "The upload could not be read"),
                        format!("{e}"),
                        StatusCode::BAD_REQUEST,
                    ))
                }
            };
            if bytes.len() + chunk.len() > MAX_UPLOAD_BYTES {
                return Err(bad(
                    l.t("Tệp quá lớn", "The file is too large"),
                    format!(
                        "{} {} MB.",
                        l.t(
                            "Tệp (trường “file”) vượt quá giới hạn",
                            "The file (field “file”) is over the limit of"
                        ),
                        MAX_UPLOAD_BYTES / 1024 / 1024
                    ),
                    StatusCode::PAYLOAD_TOO_LARGE,
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if name.is_empty() || bytes.is_empty() {
            break;
        }
        return Ok((name, bytes));
    }
    Err(bad(
        l.t("Chưa chọn tệp", "No file chosen"),
        l.t(
            "Trường “Tệp danh sách”: chọn một tệp .csv (UTF-8) hoặc .xlsx rồi bấm “Kiểm tra tệp”.",
            "Field “List file”: choose a .csv (UTF-8) or .xlsx file, then press “Check the file”.",
        )
        .to_string(),
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

/// `POST /establishments/import/preview` (multipart, field `file`): the preview fragment.
pub async fn preview(
    web_user: Web,
    state: web::Data<AppState>,
    payload: Multipart,
) -> DashResult<HttpResponse> {
    web_user
        .actor
        .require(IMPORTERS, "import establishment lists")?;
    let l = web_user.lang;
    let (name, bytes) = match read_upload(l, payload).await {
        Ok(v) => v,
        Err(response) => return response,
    };
    let db = state.db.clone();
    let actor = web_user.actor.clone();
    let (n, b) = (name.clone(), bytes.clone());
    let result = web::block(move || import::preview(&db, &actor, &n, &b)).await?;
    let preview = match result {
        Ok(p) => p,
        Err(ImportError::File(e)) => {
            return problem(
                l,
                StatusCode::UNPROCESSABLE_ENTITY,
                l.t("Không dùng được tệp này", "This file cannot be used"),
                format!("{e:#}"),
            )
        }
        Err(ImportError::Db(e)) => return Err(ApiError::from(e).into()),
        Err(e @ ImportError::Rows { .. }) => {
            return problem(
                l,
                StatusCode::UNPROCESSABLE_ENTITY,
                l.t("Tệp có lỗi", "The file has errors"),
                e.to_string(),
            )
        }
    };
    let token = keep(Upload {
        user: web_user.actor.user_id,
        name: name.clone(),
        bytes,
        at: Instant::now(),
    });
    render(&preview_view(l, token, name, preview))
}

#[derive(Template)]
#[template(path = "establishments/import_result.html")]
struct ResultView {
    l: Lang,
    file_name: String,
    rows: usize,
    inserted: usize,
    updated: usize,
    unchanged: usize,
    skipped_invalid: String,
    skipped_invalid_n: usize,
    skipped_chosen: String,
    skipped_chosen_n: usize,
}

fn rows_text(rows: &[usize]) -> String {
    rows.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `POST /establishments/import/confirm` (`token`, `dup` = rows flagged as likely duplicates,
/// `include` = those the user still wants imported): imports the valid rows.
pub async fn confirm(
    web_user: Web,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> DashResult<HttpResponse> {
    web_user
        .actor
        .require(IMPORTERS, "import establishment lists")?;
    let l = web_user.lang;
    let mut token = String::new();
    let mut dups = BTreeSet::new();
    let mut include = BTreeSet::new();
    for (k, v) in form.into_inner() {
        let row = v.trim().parse::<usize>();
        match (k.as_str(), row) {
            ("token", _) => token = v,
            ("dup", Ok(n)) => {
                dups.insert(n);
            }
            ("include", Ok(n)) => {
                include.insert(n);
            }
            _ => {}
        }
    }
    let Some(upload) = take(&token, web_user.actor.user_id) else {
        return problem(
            l,
            StatusCode::GONE,
            l.t("Bản xem trước đã hết hạn", "The preview has expired"),
            l.t(
                "Tệp đã được nhập hoặc bản xem trước quá một giờ. Hãy tải tệp lên lại để kiểm tra.",
                "The file was imported already or the preview is over an hour old. Upload the file again to check it.",
            )
            .to_string(),
        );
    };
    let skip: BTreeSet<usize> = dups.difference(&include).copied().collect();
    let db = state.db.clone();
    let actor = web_user.actor.clone();
    let name = upload.name.clone();
    let result = web::block(move || {
        import::import_valid_rows(&db, &actor, &upload.name, &upload.bytes, &skip)
    })
    .await?;
    match result {
        Ok(o) => render(&ResultView {
            l,
            file_name: name,
            rows: o.report.rows,
            inserted: o.report.inserted,
            updated: o.report.updated,
            unchanged: o.report.unchanged,
            skipped_invalid_n: o.skipped_invalid.len(),
            skipped_invalid: rows_text(&o.skipped_invalid),
            skipped_chosen_n: o.skipped_chosen.len(),
            skipped_chosen: rows_text(&o.skipped_chosen),
        }),
        Err(ImportError::File(e)) => problem(
            l,
            StatusCode::UNPROCESSABLE_ENTITY,
            l.t("Không dùng được tệp này", "This file cannot be used"),
            format!("{e:#}"),
        ),
        Err(ImportError::Rows { errors, .. }) => problem(
            l,
            StatusCode::CONFLICT,
            l.t(
                "Chưa nhập gì: các dòng còn lại mâu thuẫn nhau",
                "Nothing was imported: the remaining rows conflict",
            ),
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Err(ImportError::Db(e)) => Err(ApiError::from(e).into()),
    }
}
