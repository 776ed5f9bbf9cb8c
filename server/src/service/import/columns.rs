//! Column names: the fields an import file may carry, the Vietnamese and English headers each is
//! known by (compared without case, diacritics or punctuation), and locating the header row.

use std::collections::BTreeMap;

use anyhow::bail;
use doi178_shared::text::fold;

use super::table::SheetRow;

/// A field of an establishment that a column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Name,
    Type,
    Unit,
    Address,
    BusinessRegNo,
    LicenceNo,
    LicenceIssuedOn,
    LicenceExpiresOn,
    AnttCertNo,
    OwnerName,
    Phone,
    Lat,
    Lon,
    Status,
    OpenedOn,
    ClosedOn,
    Risk,
    CommitmentSigned,
    CommitmentSignedOn,
}

impl Field {
    pub const ALL: &'static [Field] = &[
        Field::Name,
        Field::Type,
        Field::Unit,
        Field::Address,
        Field::BusinessRegNo,
        Field::LicenceNo,
        Field::LicenceIssuedOn,
        Field::LicenceExpiresOn,
        Field::AnttCertNo,
        Field::OwnerName,
        Field::Phone,
        Field::Lat,
        Field::Lon,
        Field::Status,
        Field::OpenedOn,
        Field::ClosedOn,
        Field::Risk,
        Field::CommitmentSigned,
        Field::CommitmentSignedOn,
    ];

    /// Columns every file must have.
    pub const REQUIRED: &'static [Field] = &[Field::Name, Field::Type, Field::Unit, Field::Address];

    /// The field's name in `EstablishmentInput` (and so in domain errors).
    pub const fn key(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Type => "establishment_type",
            Field::Unit => "unit",
            Field::Address => "address",
            Field::BusinessRegNo => "business_reg_no",
            Field::LicenceNo => "licence_no",
            Field::LicenceIssuedOn => "licence_issued_on",
            Field::LicenceExpiresOn => "licence_expires_on",
            Field::AnttCertNo => "antt_cert_no",
            Field::OwnerName => "owner_name",
            Field::Phone => "phone",
            Field::Lat => "lat",
            Field::Lon => "lon",
            Field::Status => "status",
            Field::OpenedOn => "opened_on",
            Field::ClosedOn => "closed_on",
            Field::Risk => "risk",
            Field::CommitmentSigned => "commitment_signed",
            Field::CommitmentSignedOn => "commitment_signed_on",
        }
    }

    /// The usual Vietnamese header, used in messages when the file has no such column.
    pub const fn label(self) -> &'static str {
        match self {
            Field::Name => "Tên cơ sở",
            Field::Type => "Loại hình",
            Field::Unit => "Mã xã",
            Field::Address => "Địa chỉ",
            Field::BusinessRegNo => "Số ĐKKD",
            Field::LicenceNo => "Số giấy phép",
            Field::LicenceIssuedOn => "Ngày cấp",
            Field::LicenceExpiresOn => "Ngày hết hạn",
            Field::AnttCertNo => "Số GCN ANTT",
            Field::OwnerName => "Chủ cơ sở",
            Field::Phone => "Điện thoại",
            Field::Lat => "Vĩ độ",
            Field::Lon => "Kinh độ",
            Field::Status => "Trạng thái",
            Field::OpenedOn => "Ngày hoạt động",
            Field::ClosedOn => "Ngày đóng cửa",
            Field::Risk => "Mức độ rủi ro",
            Field::CommitmentSigned => "Đã ký cam kết",
            Field::CommitmentSignedOn => "Ngày ký cam kết",
        }
    }

    /// Accepted headers besides [`Field::label`] and [`Field::key`], already in [`header_key`] form.
    const fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Name => &[
                "ten",
                "ten co so kinh doanh",
                "ten doanh nghiep",
                "ten ho kinh doanh",
                "ten dia diem kinh doanh",
                "establishment",
                "establishment name",
            ],
            Field::Type => &[
                "type",
                "loai hinh kinh doanh",
                "loai co so",
                "nganh nghe",
                "nganh nghe kinh doanh",
                "loai hinh dich vu",
            ],
            Field::Unit => &[
                "unit id",
                "ma don vi",
                "ma dvhc",
                "ma don vi hanh chinh",
                "ma xa phuong",
                "ma phuong xa",
                "ma phuong",
                "ma xa phuong dac khu",
                "commune",
                "commune code",
                "unit code",
            ],
            Field::Address => &[
                "dia chi kinh doanh",
                "dia chi co so",
                "dia diem kinh doanh",
                "dia diem",
            ],
            Field::BusinessRegNo => &[
                "so dang ky kinh doanh",
                "ma so doanh nghiep",
                "ma so dkkd",
                "so gcn dkkd",
                "so giay chung nhan dkkd",
                "giay chung nhan dkkd",
                "so dkhkd",
                "ma so ho kinh doanh",
                "dkkd",
                "business registration",
                "business registration no",
                "business reg",
            ],
            Field::LicenceNo => &[
                "giay phep",
                "so gp",
                "so giay phep kinh doanh",
                "so giay phep du dieu kien",
                "licence",
                "license",
                "license no",
                "licence number",
                "license number",
            ],
            Field::LicenceIssuedOn => &[
                "ngay cap giay phep",
                "ngay cap gp",
                "license issued on",
                "issued on",
            ],
            Field::LicenceExpiresOn => &[
                "han giay phep",
                "ngay het han giay phep",
                "thoi han giay phep",
                "hieu luc den",
                "license expires on",
                "expires on",
            ],
            Field::AnttCertNo => &[
                "gcn antt",
                "so giay chung nhan antt",
                "giay chung nhan antt",
                "so giay chung nhan du dieu kien ve an ninh trat tu",
            ],
            Field::OwnerName => &[
                "chu co so",
                "chu ho kinh doanh",
                "chu so huu",
                "ho ten chu co so",
                "nguoi dai dien",
                "nguoi dai dien theo phap luat",
                "nguoi quan ly",
                "owner",
            ],
            Field::Phone => &[
                "so dien thoai",
                "sdt",
                "dt",
                "so dt",
                "phone number",
                "telephone",
            ],
            Field::Lat => &["lat", "latitude"],
            Field::Lon => &["lon", "lng", "long", "longitude"],
            Field::Status => &["tinh trang", "tinh trang hoat dong", "trang thai hoat dong"],
            Field::OpenedOn => &[
                "ngay bat dau hoat dong",
                "ngay khai truong",
                "ngay mo cua",
                "opened",
            ],
            Field::ClosedOn => &["ngay ngung hoat dong", "ngay cham dut hoat dong", "closed"],
            Field::Risk => &["rui ro", "muc rui ro", "risk level"],
            Field::CommitmentSigned => &["ky cam ket", "cam ket", "commitment"],
            Field::CommitmentSignedOn => &["ngay cam ket"],
        }
    }

    /// Finds the field a header names, if any.
    pub fn from_header(header: &str) -> Option<Field> {
        let key = header_key(header);
        if key.is_empty() {
            return None;
        }
        Field::ALL.iter().copied().find(|f| {
            header_key(f.label()) == key
                || header_key(f.key()) == key
                || f.aliases().contains(&key.as_str())
        })
    }

    /// The field a domain error names (`EstablishmentInput` field names).
    pub fn from_key(key: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.key() == key)
    }
}

/// Normal form for comparing headers and coded values: lowercase, no diacritics (đ → d), every run
/// of punctuation and spaces a single space. `"Số ĐKKD (*)"` → `"so dkkd"`,
/// `"dance_hall"` → `"dance hall"`.
pub fn header_key(s: &str) -> String {
    let folded = fold(s);
    let spaced: String = folded
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where each field's column is, with the header as written in the file.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub found: BTreeMap<Field, (usize, String)>,
    /// Headers that name no field (e.g. "STT", "Ghi chú"); their cells are not read.
    pub ignored: Vec<String>,
}

impl Columns {
    pub fn index(&self, field: Field) -> Option<usize> {
        self.found.get(&field).map(|(i, _)| *i)
    }

    pub fn has(&self, field: Field) -> bool {
        self.found.contains_key(&field)
    }

    /// The column a message should name: the file's header, or the usual header when absent.
    pub fn name(&self, field: Field) -> String {
        match self.found.get(&field) {
            Some((_, header)) => header.clone(),
            None => format!("{} (not in the file)", field.label()),
        }
    }

    /// Maps a header row. Fails when two headers name the same field or a required one is missing.
    pub fn from_header_row(row: &SheetRow) -> anyhow::Result<Columns> {
        let mut columns = Columns::default();
        for (i, cell) in row.cells.iter().enumerate() {
            let header = cell.to_text();
            if header.is_empty() {
                continue;
            }
            match Field::from_header(&header) {
                Some(field) => {
                    if let Some((_, first)) = columns.found.get(&field) {
                        bail!(
                            "columns \"{first}\" and \"{header}\" (row {}) both give the {} ({}); keep only one",
                            row.number,
                            field.label(),
                            field.key()
                        );
                    }
                    columns.found.insert(field, (i, header));
                }
                None => columns.ignored.push(header),
            }
        }
        let missing: Vec<String> = Field::REQUIRED
            .iter()
            .filter(|f| !columns.has(**f))
            .map(|f| format!("\"{}\" ({})", f.label(), f.key()))
            .collect();
        if !missing.is_empty() {
            let found: Vec<String> = row
                .cells
                .iter()
                .map(|c| c.to_text())
                .filter(|h| !h.is_empty())
                .map(|h| format!("\"{h}\""))
                .collect();
            let mut msg =
                format!(
                "missing required column{}: {}. The header (row {}) has: {}. Column names may be \
                 Vietnamese or English, with or without diacritics.",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                row.number,
                if found.is_empty() { "nothing".to_string() } else { found.join(", ") },
            );
            if found.len() == 1 && [";", ",", "\t", "|"].iter().any(|d| found[0].contains(d)) {
                msg.push_str(
                    " It looks like a single column: separate the columns with a comma, a \
                     semicolon or a tab.",
                );
            }
            bail!(msg);
        }
        Ok(columns)
    }
}

/// Position of the header row: the first row (within the first 20 non-blank rows) naming at least
/// two required fields, so title lines above the table ("DANH SÁCH CƠ SỞ …") are skipped; otherwise
/// the first non-blank row. `None` when every row is blank.
pub fn find_header(rows: &[SheetRow]) -> Option<usize> {
    let candidates: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.is_blank())
        .map(|(i, _)| i)
        .take(20)
        .collect();
    candidates
        .iter()
        .copied()
        .find(|&i| {
            rows[i]
                .cells
                .iter()
                .filter_map(|c| Field::from_header(&c.to_text()))
                .filter(|f| Field::REQUIRED.contains(f))
                .count()
                >= 2
        })
        .or_else(|| candidates.first().copied())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::table::Cell;
    use super::*;

    fn row(number: usize, cells: &[&str]) -> SheetRow {
        SheetRow {
            number,
            cells: cells
                .iter()
                .map(|c| {
                    if c.is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text((*c).to_string())
                    }
                })
                .collect(),
        }
    }

    #[test]
    fn header_key_folds_and_strips_punctuation() {
        assert_eq!(header_key("Số ĐKKD (*)"), "so dkkd");
        assert_eq!(header_key("  Mã xã/phường "), "ma xa phuong");
        assert_eq!(header_key("business_reg_no"), "business reg no");
    }

    #[test]
    fn headers_in_vietnamese_and_english() {
        assert_eq!(Field::from_header("Tên cơ sở"), Some(Field::Name));
        assert_eq!(Field::from_header("TEN CO SO"), Some(Field::Name));
        assert_eq!(Field::from_header("name"), Some(Field::Name));
        assert_eq!(Field::from_header("Loại hình"), Some(Field::Type));
        assert_eq!(Field::from_header("establishment_type"), Some(Field::Type));
        assert_eq!(Field::from_header("Mã xã"), Some(Field::Unit));
        assert_eq!(Field::from_header("unit"), Some(Field::Unit));
        assert_eq!(Field::from_header("Địa chỉ"), Some(Field::Address));
        assert_eq!(Field::from_header("Số ĐKKD"), Some(Field::BusinessRegNo));
        assert_eq!(Field::from_header("Số giấy phép"), Some(Field::LicenceNo));
        assert_eq!(Field::from_header("licence_no"), Some(Field::LicenceNo));
        assert_eq!(Field::from_header("Số điện thoại"), Some(Field::Phone));
        assert_eq!(Field::from_header("Vĩ độ"), Some(Field::Lat));
        assert_eq!(Field::from_header("Kinh độ"), Some(Field::Lon));
        assert_eq!(Field::from_header("STT"), None);
        assert_eq!(Field::from_header(""), None);
        for f in Field::ALL {
            assert_eq!(Field::from_header(f.label()), Some(*f), "{f:?}");
            assert_eq!(Field::from_header(f.key()), Some(*f), "{f:?}");
            assert_eq!(Field::from_key(f.key()), Some(*f));
        }
    }

    #[test]
    fn aliases_are_unambiguous() {
        let mut seen = std::collections::BTreeMap::new();
        for f in Field::ALL {
            let mut keys = vec![header_key(f.label()), header_key(f.key())];
            keys.extend(f.aliases().iter().map(|a| (*a).to_string()));
            for k in keys {
                assert_eq!(k, header_key(&k), "alias {k:?} is not in normal form");
                if let Some(other) = seen.insert(k.clone(), *f) {
                    assert_eq!(other, *f, "{k:?} names two fields");
                }
            }
        }
    }

    #[test]
    fn header_row_maps_and_ignores() {
        let cols = Columns::from_header_row(&row(
            1,
            &[
                "STT",
                "Tên cơ sở",
                "Loại hình",
                "Mã xã",
                "Địa chỉ",
                "",
                "Ghi chú",
            ],
        ))
        .unwrap();
        assert_eq!(cols.index(Field::Name), Some(1));
        assert_eq!(cols.index(Field::Address), Some(4));
        assert_eq!(cols.ignored, vec!["STT".to_string(), "Ghi chú".to_string()]);
        assert_eq!(cols.name(Field::Unit), "Mã xã");
        assert_eq!(
            cols.name(Field::ClosedOn),
            "Ngày đóng cửa (not in the file)"
        );
    }

    #[test]
    fn header_row_errors() {
        let err = Columns::from_header_row(&row(1, &["Tên cơ sở", "Địa chỉ"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Loại hình") && err.contains("Mã xã"), "{err}");
        let err = Columns::from_header_row(&row(1, &["Tên cơ sở;Loại hình;Mã xã;Địa chỉ"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("single column"), "{err}");
        let err = Columns::from_header_row(&row(
            1,
            &["Tên cơ sở", "name", "Loại hình", "Mã xã", "Địa chỉ"],
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("both"), "{err}");
    }

    #[test]
    fn header_row_below_a_title() {
        let rows = vec![
            row(1, &["DANH SÁCH CƠ SỞ KINH DOANH KARAOKE"]),
            row(2, &[""]),
            row(3, &["STT", "Tên cơ sở", "Loại hình", "Mã xã", "Địa chỉ"]),
            row(4, &["1", "A", "karaoke", "19753", "x"]),
        ];
        assert_eq!(find_header(&rows), Some(2));
        assert_eq!(find_header(&rows[..2]), Some(0));
        assert_eq!(find_header(&[row(1, &["", ""])]), None);
    }
}
