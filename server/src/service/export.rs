//! Spreadsheet and CSV writers for the dashboard's report and list exports: pure functions from
//! typed rows to bytes, no database and no HTTP.
//!
//! A [`Table`] is one sheet: typed columns (text, count, đồng, share, date), an optional preamble
//! of label–value lines above the header (report title, unit, period, date of issue) and rows.
//! [`xlsx`] writes any number of tables as the sheets of one workbook (Vietnamese headers, number
//! formats, column widths, header row frozen); [`csv`] writes one table as UTF-8 CSV with a byte
//! order mark, so that Excel opens Vietnamese text correctly.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, XlsxError};

/// UTF-8 byte order mark: Excel reads a CSV as UTF-8 only when the file starts with it.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How a column's values are written and formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A whole number: `1.234` in a Vietnamese Excel.
    Count,
    /// An amount in đồng: `1.500.000 ₫`.
    Vnd,
    /// A fraction shown as a percentage with one decimal (0.234 → 23,4 %).
    Share,
    /// A calendar date, dd/mm/yyyy.
    Date,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub header: String,
    pub kind: Kind,
    /// Width in characters.
    pub width: f64,
}

impl Column {
    pub fn new(header: &str, kind: Kind, width: f64) -> Column {
        Column {
            header: header.to_string(),
            kind,
            width,
        }
    }
}

/// One value. `Empty` is a blank cell (unknown, or not applicable).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// An amount in đồng.
    Vnd(i64),
    Share(f64),
    Date(NaiveDate),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn opt_text(s: Option<&str>) -> Cell {
        s.filter(|s| !s.is_empty()).map_or(Cell::Empty, Cell::text)
    }

    pub fn opt_date(d: Option<NaiveDate>) -> Cell {
        d.map_or(Cell::Empty, Cell::Date)
    }

    pub fn opt_share(s: Option<f64>) -> Cell {
        s.map_or(Cell::Empty, Cell::Share)
    }

    pub fn int(n: impl Into<i64>) -> Cell {
        Cell::Int(n.into())
    }

    pub fn count(n: u64) -> Cell {
        Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// One sheet.
#[derive(Debug, Clone)]
pub struct Table {
    /// Sheet name (at most 31 characters, no `[]:*?/\`).
    pub name: String,
    /// Label–value lines written above the header (title, unit, period…); empty for plain lists.
    pub preamble: Vec<(String, String)>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(name: &str, columns: Vec<Column>) -> Table {
        Table {
            name: name.to_string(),
            preamble: Vec::new(),
            columns,
            rows: Vec::new(),
        }
    }

    /// Index (0-based) of the header row in the sheet.
    pub fn header_row(&self) -> u32 {
        if self.preamble.is_empty() {
            0
        } else {
            u32::try_from(self.preamble.len()).unwrap_or(u32::MAX - 1) + 1
        }
    }
}

/// Number formats. Excel shows `#,##0` with the reader's separators (1.234.567 in Vietnamese).
const COUNT_FMT: &str = "#,##0";
const VND_FMT: &str = "#,##0 \"₫\"";
const SHARE_FMT: &str = "0.0%";
const DATE_FMT: &str = "dd/mm/yyyy";

fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    let month = u8::try_from(d.month()).unwrap_or(1);
    let day = u8::try_from(d.day()).unwrap_or(1);
    let year = u16::try_from(d.year()).unwrap_or(1900);
    ExcelDateTime::from_ymd(year, month, day)
}

/// The workbook with one sheet per table.
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color("#E8EEF5")
        .set_border_bottom(FormatBorder::Thin);
    let label = Format::new().set_bold();
    let text = Format::new().set_align(FormatAlign::Top).set_text_wrap();
    let count = Format::new().set_num_format(COUNT_FMT);
    let vnd = Format::new().set_num_format(VND_FMT);
    let share = Format::new().set_num_format(SHARE_FMT);
    let date = Format::new()
        .set_num_format(DATE_FMT)
        .set_align(FormatAlign::Left);
    for table in tables {
        let ws = wb.add_worksheet();
        ws.set_name(&table.name)?;
        for (i, (k, v)) in table.preamble.iter().enumerate() {
            let r = u32::try_from(i).unwrap_or(u32::MAX);
            ws.write_string_with_format(r, 0, k, &label)?;
            ws.write_string(r, 1, v)?;
        }
        let top = table.header_row();
        for (c, col) in table.columns.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            ws.set_column_width(c, col.width)?;
            ws.write_string_with_format(top, c, &col.header, &header)?;
        }
        for (i, row) in table.rows.iter().enumerate() {
            let r = top + 1 + u32::try_from(i).unwrap_or(u32::MAX - top - 1);
            for (c, (cell, col)) in row.iter().zip(&table.columns).enumerate() {
                let c = u16::try_from(c).unwrap_or(u16::MAX);
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) => {
                        ws.write_string_with_format(r, c, s, &text)?;
                    }
                    Cell::Int(n) => {
                        let f = if col.kind == Kind::Vnd { &vnd } else { &count };
                        // Counts and amounts stay far below 2^53: exact as Excel numbers.
                        ws.write_number_with_format(r, c, *n as f64, f)?;
                    }
                    Cell::Vnd(n) => {
                        ws.write_number_with_format(r, c, *n as f64, &vnd)?;
                    }
                    Cell::Share(x) => {
                        ws.write_number_with_format(r, c, *x, &share)?;
                    }
                    Cell::Date(d) => {
                        ws.write_datetime_with_format(r, c, excel_date(*d)?, &date)?;
                    }
                }
            }
        }
        // The header stays in view while scrolling.
        ws.set_freeze_panes(top + 1, 0)?;
    }
    wb.save_to_buffer()
}

/// The CSV text of a value: dates dd/mm/yyyy, shares as percentages with one decimal (`23.4`),
/// whole numbers without grouping, so that a spreadsheet reads them as numbers.
fn csv_value(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => s.clone(),
        Cell::Int(n) | Cell::Vnd(n) => n.to_string(),
        Cell::Share(x) => format!("{:.1}", x * 100.0),
        Cell::Date(d) => d.format("%d/%m/%Y").to_string(),
    }
}

/// One table as CSV: byte order mark, header line, one line per row (RFC 4180 quoting).
pub fn csv(table: &Table) -> Result<Vec<u8>, ::csv::Error> {
    let mut out = BOM.to_vec();
    {
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(table.columns.iter().map(|c| c.header.as_str()))?;
        for row in &table.rows {
            w.write_record(row.iter().map(csv_value))?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// A file name made of ASCII letters, digits and dashes (`2025:46` → `2025-46`).
pub fn file_slug(s: &str) -> String {
    let folded = doi178_shared::text::fold(s);
    let mut out = String::with_capacity(folded.len());
    for ch in folded.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use std::io::Cursor;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn sample() -> Table {
        let mut t = Table::new(
            "Vi phạm",
            vec![
                Column::new("Mã", Kind::Text, 14.0),
                Column::new("Hành vi vi phạm", Kind::Text, 60.0),
                Column::new("Số vụ", Kind::Count, 10.0),
                Column::new("Tiền phạt đề xuất (đồng)", Kind::Vnd, 18.0),
                Column::new("Tỷ lệ", Kind::Share, 10.0),
                Column::new("Ngày", Kind::Date, 12.0),
            ],
        );
        t.rows.push(vec![
            Cell::text("ND282-15.4.a"),
            Cell::text(
                "Kinh doanh khi chưa được cấp Giấy chứng nhận đủ điều kiện về an ninh, trật tự",
            ),
            Cell::int(3),
            Cell::Vnd(45_000_000),
            Cell::Share(0.25),
            Cell::Date(d("2026-05-31")),
        ]);
        t.rows.push(vec![
            Cell::text("ND282-15.3.e"),
            Cell::text("Phòng hát có chốt, khóa bên trong; \"báo động\""),
            Cell::int(2),
            Cell::int(20_000_000),
            Cell::Empty,
            Cell::Empty,
        ]);
        t
    }

    fn read(bytes: Vec<u8>, sheet: &str) -> calamine::Range<Data> {
        let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        wb.worksheet_range(sheet).unwrap()
    }

    #[test]
    fn xlsx_reads_back_with_headers_totals_and_vietnamese_text() {
        let mut summary = Table::new(
            "Tổng hợp",
            vec![
                Column::new("Chỉ tiêu", Kind::Text, 50.0),
                Column::new("Số liệu", Kind::Count, 14.0),
            ],
        );
        summary.preamble = vec![
            (
                "Báo cáo".into(),
                "Kết quả kiểm tra 6 tháng đầu năm 2026".into(),
            ),
            ("Đơn vị".into(), "Thành phố Huế".into()),
        ];
        summary.rows.push(vec![
            Cell::text("Cơ sở thuộc diện kiểm tra"),
            Cell::int(1234),
        ]);
        let bytes = xlsx(&[summary.clone(), sample()]).unwrap();
        assert_eq!(&bytes[..2], b"PK", "an XLSX is a zip file");

        let wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
        assert_eq!(wb.sheet_names(), vec!["Tổng hợp", "Vi phạm"]);

        let s = read(bytes.clone(), "Tổng hợp");
        assert_eq!(
            s.get_value((1, 1)),
            Some(&Data::String("Thành phố Huế".into()))
        );
        // Preamble (2 lines), a blank line, then the header.
        assert_eq!(summary.header_row(), 3);
        assert_eq!(s.get_value((3, 0)), Some(&Data::String("Chỉ tiêu".into())));
        assert_eq!(s.get_value((4, 1)), Some(&Data::Float(1234.0)));

        let v = read(bytes, "Vi phạm");
        let headers: Vec<String> = (0..6)
            .map(|c| v.get_value((0, c)).unwrap().to_string())
            .collect();
        assert_eq!(
            headers,
            [
                "Mã",
                "Hành vi vi phạm",
                "Số vụ",
                "Tiền phạt đề xuất (đồng)",
                "Tỷ lệ",
                "Ngày"
            ]
        );
        let total_count: f64 = (1..=2)
            .map(|r| match v.get_value((r, 2)) {
                Some(Data::Float(x)) => *x,
                other => panic!("count cell {other:?}"),
            })
            .sum();
        let total_fines: f64 = (1..=2)
            .map(|r| match v.get_value((r, 3)) {
                Some(Data::Float(x)) => *x,
                other => panic!("fine cell {other:?}"),
            })
            .sum();
        assert_eq!((total_count, total_fines), (5.0, 65_000_000.0));
        assert_eq!(
            v.get_value((2, 1)),
            Some(&Data::String(
                "Phòng hát có chốt, khóa bên trong; \"báo động\"".into()
            ))
        );
        assert_eq!(v.get_value((1, 4)), Some(&Data::Float(0.25)));
        match v.get_value((1, 5)) {
            Some(Data::DateTime(x)) => {
                // Excel's day serial: days since 30/12/1899.
                let serial = (d("2026-05-31") - d("1899-12-30")).num_days() as f64;
                assert_eq!(x.as_f64(), serial)
            }
            other => panic!("date cell {other:?}"),
        }
        assert!(matches!(v.get_value((2, 4)), None | Some(Data::Empty)));
    }

    #[test]
    fn csv_starts_with_the_bom_and_quotes_what_needs_it() {
        let bytes = csv(&sample()).unwrap();
        assert_eq!(&bytes[..3], BOM);
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 3, "header and two rows");
        assert_eq!(
            lines[0],
            "Mã,Hành vi vi phạm,Số vụ,Tiền phạt đề xuất (đồng),Tỷ lệ,Ngày"
        );
        assert_eq!(
            lines[1],
            "ND282-15.4.a,\"Kinh doanh khi chưa được cấp Giấy chứng nhận đủ điều kiện về an ninh, trật tự\",3,45000000,25.0,31/05/2026"
        );
        // Read back with a CSV reader: the quotes round-trip.
        let mut r = ::csv::Reader::from_reader(&bytes[3..]);
        let rows: Vec<::csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(
            &rows[1][1],
            "Phòng hát có chốt, khóa bên trong; \"báo động\""
        );
        assert_eq!(&rows[1][4], "");
    }

    #[test]
    fn an_empty_table_still_has_its_header() {
        let t = Table::new("Cơ sở", vec![Column::new("Tên cơ sở", Kind::Text, 30.0)]);
        let v = read(xlsx(std::slice::from_ref(&t)).unwrap(), "Cơ sở");
        assert_eq!(v.get_value((0, 0)), Some(&Data::String("Tên cơ sở".into())));
        assert_eq!(csv(&t).unwrap(), [BOM, "Tên cơ sở\r\n".as_bytes()].concat());
    }

    #[test]
    fn file_slugs_are_ascii() {
        assert_eq!(file_slug("2025:46"), "2025-46");
        assert_eq!(file_slug("Phường Thuận Hóa"), "phuong-thuan-hoa");
    }
}
