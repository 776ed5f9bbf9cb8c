//! Import of establishment lists from the business-registration office (CSV / XLSX), for
//! provincial staff and administrators: upload → preview of every row (values as read, errors
//! naming the column, likely duplicates) → confirm → the importer saves the valid rows in one
//! transaction and reports what it did.
//!
//! The file is parsed and checked by the importer itself (`import::preview`,
//! `import::import_valid_rows`, the same code as the `import` command). Between the preview and the
//! confirmation the uploaded bytes wait in memory (`service::import::pending`).

mod view;

use std::collections::BTreeSet;
use std::time::Instant;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use doi178_shared::Role;
use futures_util::StreamExt;

use crate::dashboard::page::{render, render_status, Ctx, DashResult, Lang};
use crate::dashboard::Web;
use crate::error::ApiError;
use crate::service::import::pending::{keep, take, Upload};
use crate::service::import::{self, ImportError};
use crate::state::AppState;

use self::view::preview_view;

/// Largest file accepted (a province's list is far smaller).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

const IMPORTERS: &[Role] = &[Role::Admin, Role::ProvincialStaff];

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
