//! One data row of the file read into typed, still unvalidated values, and the row-level error
//! type ("row N, column X: message").

use std::fmt;

use chrono::NaiveDate;
use doi178_shared::establishment::{EstablishmentStatus, EstablishmentType, RiskLevel};

use super::columns::{Columns, Field};
use super::table::{Cell, SheetRow};
use super::values::{self, CellResult};

/// A problem with one row; `row` is the spreadsheet row number (the header is row 1 when it is the
/// first line of the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    /// The column as the file names it.
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "row {}, column {}: {}", self.row, c, self.message),
            None => write!(f, "row {}: {}", self.row, self.message),
        }
    }
}

/// The values of one row; `None` means the column is absent or the cell blank.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    pub row: usize,
    /// Every cell could be read; when false, only the unit is checked further.
    pub cells_ok: bool,
    pub name: Option<String>,
    pub establishment_type: Option<EstablishmentType>,
    pub unit: Option<String>,
    pub address: Option<String>,
    pub business_reg_no: Option<String>,
    pub licence_no: Option<String>,
    pub licence_issued_on: Option<NaiveDate>,
    pub licence_expires_on: Option<NaiveDate>,
    pub antt_cert_no: Option<String>,
    pub owner_name: Option<String>,
    pub phone: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub status: Option<EstablishmentStatus>,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub risk: Option<RiskLevel>,
    pub commitment_signed: Option<bool>,
    pub commitment_signed_on: Option<NaiveDate>,
}

/// Reads the cells of `row`. Every bad cell adds an error and clears [`Record::cells_ok`].
pub fn read_record(row: &SheetRow, columns: &Columns, errors: &mut Vec<RowError>) -> Record {
    let before = errors.len();
    let mut record = Record {
        row: row.number,
        cells_ok: true,
        name: cell_value(row, columns, Field::Name, values::text, errors),
        establishment_type: cell_value(
            row,
            columns,
            Field::Type,
            values::establishment_type,
            errors,
        ),
        unit: cell_value(row, columns, Field::Unit, values::unit_code, errors),
        address: cell_value(row, columns, Field::Address, values::text, errors),
        business_reg_no: cell_value(row, columns, Field::BusinessRegNo, values::text, errors),
        licence_no: cell_value(row, columns, Field::LicenceNo, values::text, errors),
        licence_issued_on: cell_value(row, columns, Field::LicenceIssuedOn, values::date, errors),
        licence_expires_on: cell_value(row, columns, Field::LicenceExpiresOn, values::date, errors),
        antt_cert_no: cell_value(row, columns, Field::AnttCertNo, values::text, errors),
        owner_name: cell_value(row, columns, Field::OwnerName, values::text, errors),
        phone: cell_value(row, columns, Field::Phone, values::phone, errors),
        lat: cell_value(row, columns, Field::Lat, values::number, errors),
        lon: cell_value(row, columns, Field::Lon, values::number, errors),
        status: cell_value(row, columns, Field::Status, values::status, errors),
        opened_on: cell_value(row, columns, Field::OpenedOn, values::date, errors),
        closed_on: cell_value(row, columns, Field::ClosedOn, values::date, errors),
        risk: cell_value(row, columns, Field::Risk, values::risk, errors),
        commitment_signed: cell_value(
            row,
            columns,
            Field::CommitmentSigned,
            values::yes_no,
            errors,
        ),
        commitment_signed_on: cell_value(
            row,
            columns,
            Field::CommitmentSignedOn,
            values::date,
            errors,
        ),
    };
    // Cells every row must fill (their columns exist: checked with the header). A bad value has
    // already been reported; only a blank cell is reported here.
    for field in Field::REQUIRED {
        let blank = columns.index(*field).is_none_or(|i| row.cell(i).is_blank());
        if blank {
            errors.push(RowError {
                row: row.number,
                column: Some(columns.name(*field)),
                message: "is required".to_string(),
            });
        }
    }
    record.cells_ok = errors.len() == before;
    record
}

/// The parsed value of `field`'s cell; `None` when the column is absent, the cell blank, or the
/// value bad (then an error is added).
fn cell_value<T>(
    row: &SheetRow,
    columns: &Columns,
    field: Field,
    parse: impl Fn(&Cell) -> CellResult<T>,
    errors: &mut Vec<RowError>,
) -> Option<T> {
    let index = columns.index(field)?;
    match parse(row.cell(index)) {
        Ok(v) => v,
        Err(message) => {
            errors.push(RowError {
                row: row.number,
                column: Some(columns.name(field)),
                message,
            });
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sheet_row(number: usize, cells: &[&str]) -> SheetRow {
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

    fn columns() -> Columns {
        Columns::from_header_row(&sheet_row(
            1,
            &[
                "Tên cơ sở",
                "Loại hình",
                "Mã xã",
                "Địa chỉ",
                "Ngày cấp",
                "Điện thoại",
                "Trạng thái",
            ],
        ))
        .unwrap()
    }

    #[test]
    fn good_row() {
        let mut errors = Vec::new();
        let r = read_record(
            &sheet_row(
                2,
                &[
                    "Karaoke Hoa Mai",
                    "Karaoke",
                    "19753",
                    "12 Lê Lợi",
                    "15/03/2023",
                    "0234 3822 123",
                    "",
                ],
            ),
            &columns(),
            &mut errors,
        );
        assert!(errors.is_empty());
        assert!(r.cells_ok);
        assert_eq!(r.row, 2);
        assert_eq!(r.establishment_type, Some(EstablishmentType::Karaoke));
        assert_eq!(r.licence_issued_on, NaiveDate::from_ymd_opt(2023, 3, 15));
        assert_eq!(r.status, None);
        assert_eq!(r.risk, None);
    }

    #[test]
    fn every_bad_cell_is_reported() {
        let mut errors = Vec::new();
        let r = read_record(
            &sheet_row(7, &["", "Tiệm vàng", "19753", "", "31/02/2023", "", "mở"]),
            &columns(),
            &mut errors,
        );
        assert!(!r.cells_ok);
        assert_eq!(r.unit.as_deref(), Some("19753"));
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 5, "{text:#?}");
        assert!(text
            .iter()
            .any(|e| e.starts_with("row 7, column Loại hình: unknown type")));
        assert!(text
            .iter()
            .any(|e| e.starts_with("row 7, column Ngày cấp: ")));
        assert!(text
            .iter()
            .any(|e| e.starts_with("row 7, column Trạng thái: ")));
        assert!(text.contains(&"row 7, column Tên cơ sở: is required".to_string()));
        assert!(text.contains(&"row 7, column Địa chỉ: is required".to_string()));
    }
}
