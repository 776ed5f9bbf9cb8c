//! The preview of an uploaded list as the page shows it: every row with its values as read, its
//! errors naming the column, its likely duplicates and what importing it would do.

use std::collections::BTreeSet;

use askama::Template;
use doi178_shared::establishment::{EstablishmentStatus, EstablishmentType, RiskLevel};

use crate::dashboard::page::Lang;
use crate::service::import::duplicates::{Other, Reason};
use crate::service::import::{self, Field, PreviewRow, RowAction};

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
pub(super) struct PreviewView {
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

pub(super) fn preview_view(
    l: Lang,
    token: String,
    file_name: String,
    p: import::Preview,
) -> PreviewView {
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
