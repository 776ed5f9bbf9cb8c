//! Reading a CSV or spreadsheet file into rows of cells, numbered as a spreadsheet program shows
//! them (the header is row 1 when it is the first line). Everything here fails with a message a
//! user can act on; nothing panics on a malformed file.

use std::path::Path;

use anyhow::{anyhow, bail, Context};
use calamine::{open_workbook_auto, Data, Reader};
use chrono::NaiveDate;

/// One cell as read from the file. CSV gives only `Text` and `Empty`; spreadsheets keep their
/// numbers, dates and booleans so that e.g. a date cell needs no text parsing.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
    /// A spreadsheet error value such as `#N/A` or `#REF!`.
    Error(String),
}

impl Cell {
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text, as a user would read it: integral numbers without a decimal point,
    /// dates as dd/mm/yyyy.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(n) => number_text(*n),
            Cell::Date(d) => d.format("%d/%m/%Y").to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Error(e) => e.clone(),
        }
    }
}

/// `3300123456.0` → `"3300123456"`, `16.46` → `"16.46"`.
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A row of the file with its spreadsheet row number (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct SheetRow {
    pub number: usize,
    pub cells: Vec<Cell>,
}

impl SheetRow {
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(Cell::is_blank)
    }

    pub fn cell(&self, index: usize) -> &Cell {
        self.cells.get(index).unwrap_or(&Cell::Empty)
    }
}

/// What kind of file we were given, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Spreadsheet,
}

impl FileKind {
    pub fn of(path: &Path) -> anyhow::Result<FileKind> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => Ok(FileKind::Csv),
            "xlsx" | "xlsm" | "xls" | "ods" => Ok(FileKind::Spreadsheet),
            "" => bail!(
                "cannot tell the format of {}: the name has no extension; use a .csv (UTF-8) or .xlsx file",
                path.display()
            ),
            other => bail!(
                "cannot import .{other} files ({}): use a .csv (UTF-8) or .xlsx file",
                path.display()
            ),
        }
    }
}

/// All rows of the file (first worksheet for spreadsheets), blank rows included, plus a short
/// description of where they came from (for the summary).
pub struct RawTable {
    pub rows: Vec<SheetRow>,
    pub source: String,
}

pub fn read(path: &Path) -> anyhow::Result<RawTable> {
    match FileKind::of(path)? {
        FileKind::Csv => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let rows = parse_csv(&bytes)?;
            Ok(RawTable {
                rows,
                source: "CSV".to_string(),
            })
        }
        FileKind::Spreadsheet => read_spreadsheet(path),
    }
}

/// Like [`read`], for a file received as bytes (an upload); `name` gives the format by its
/// extension.
pub fn read_bytes(name: &str, bytes: &[u8]) -> anyhow::Result<RawTable> {
    match FileKind::of(Path::new(name))? {
        FileKind::Csv => Ok(RawTable {
            rows: parse_csv(bytes)?,
            source: "CSV".to_string(),
        }),
        FileKind::Spreadsheet => {
            if bytes.is_empty() {
                bail!("the file is empty");
            }
            guarded(|| {
                let workbook =
                    calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
                        .map_err(|e| {
                            anyhow!(
                                "cannot open {name} as a spreadsheet: {e}. Is it really an Excel file? Save it again as .xlsx"
                            )
                        })?;
                read_workbook(workbook)
            })
        }
    }
}

/// Decodes and splits CSV bytes. Accepts UTF-8 with or without a byte-order mark; the separator
/// (`,`, `;` or tab) is taken from the header line.
pub fn parse_csv(bytes: &[u8]) -> anyhow::Result<Vec<SheetRow>> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        bail!(
            "the file is UTF-16 text; save it as \"CSV UTF-8 (comma delimited)\" in Excel \
             (or UTF-8 in LibreOffice) and try again"
        );
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        anyhow!(
            "the file is not UTF-8 text (first bad byte on line {line}); it was probably saved \
             in a legacy encoding such as Windows-1258 or TCVN3. Save it as \"CSV UTF-8 (comma \
             delimited)\" in Excel (or choose UTF-8 in LibreOffice) and try again"
        )
    })?;
    if text.trim().is_empty() {
        bail!("the file is empty");
    }
    let delimiter = detect_delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // Spreadsheet row numbers: a blank line (which the reader skips) is a row, a line break inside
    // a quoted cell is not. A record's position is where the previous one ended, so the blank
    // lines before it are counted from there.
    let mut number = 0usize;
    for (i, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| anyhow!("the CSV file cannot be read near row {}: {e}", i + 1))?;
        let start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(0);
        let mut rest = text.get(start..).unwrap_or_default();
        if start > 0 && text.as_bytes().get(start - 1) == Some(&b'\r') {
            // The previous record ended at the \r of a \r\n.
            rest = rest.strip_prefix('\n').unwrap_or(rest);
        }
        number += 1 + leading_blank_lines(rest);
        rows.push(SheetRow {
            number,
            cells: record
                .iter()
                .map(|c| {
                    if c.trim().is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(c.to_string())
                    }
                })
                .collect(),
        });
    }
    Ok(rows)
}

/// How many empty lines `s` starts with.
fn leading_blank_lines(mut s: &str) -> usize {
    let mut n = 0;
    loop {
        if let Some(rest) = s.strip_prefix("\r\n") {
            s = rest;
        } else if let Some(rest) = s.strip_prefix(['\n', '\r']) {
            s = rest;
        } else {
            return n;
        }
        n += 1;
    }
}

/// The separator used in the first non-blank line: whichever of `,`, `;` and tab occurs most
/// often outside quotes (`,` when none does).
pub fn detect_delimiter(text: &str) -> u8 {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in line.bytes() {
        if c == b'"' {
            quoted = !quoted;
            continue;
        }
        if quoted {
            continue;
        }
        for (d, n) in counts.iter_mut() {
            if c == *d {
                *n += 1;
            }
        }
    }
    // Ties keep the earlier (more usual) separator.
    let mut best = counts[0];
    for candidate in &counts[1..] {
        if candidate.1 > best.1 {
            best = *candidate;
        }
    }
    best.0
}

fn read_spreadsheet(path: &Path) -> anyhow::Result<RawTable> {
    if !path.exists() {
        bail!("cannot read {}: no such file", path.display());
    }
    guarded(|| {
        let workbook = open_workbook_auto(path).map_err(|e| {
            anyhow!(
                "cannot open {} as a spreadsheet: {e}. Is it really an Excel file? Save it again as .xlsx",
                path.display()
            )
        })?;
        read_workbook(workbook)
    })
}

/// Runs the spreadsheet reader so that a panic inside it (calamine on a hostile file, e.g. the
/// arithmetic overflow of a cell reference like `AAAAAAAAAAAAA1` when overflow checks are on)
/// becomes an error about the file instead of taking the request, or the import, down.
fn guarded<T>(read: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|_| {
        Err(anyhow!(
            "the spreadsheet is damaged and cannot be read; open it and save it again as .xlsx, or save it as CSV"
        ))
    })
}

/// Walks the cells of worksheet `$sheet` of an `.xlsx` or `.xlsb` reader without building the
/// dense grid, refusing a sheet whose extent is too large.
macro_rules! measure_extent {
    ($book:expr, $sheet:expr) => {{
        let unreadable = |e| anyhow!("cannot read worksheet \"{}\": {e}", $sheet);
        let mut cells = $book.worksheet_cells_reader(&$sheet).map_err(unreadable)?;
        let mut extent = Extent::default();
        while let Some(cell) = cells.next_cell().map_err(unreadable)? {
            extent.add(cell.get_position())?;
        }
    }};
}

fn read_workbook<RS: std::io::Read + std::io::Seek>(
    mut workbook: calamine::Sheets<RS>,
) -> anyhow::Result<RawTable> {
    let names = workbook.sheet_names();
    let Some(first) = names.first().cloned() else {
        bail!("the workbook has no worksheets");
    };
    // calamine makes a dense grid from the first to the last cell: a tiny file with one cell in
    // A1 and one in XFD1048576 would ask for 17 billion cells (hundreds of GB). Measure first.
    match &mut workbook {
        // The two readers have the same methods but no common trait.
        calamine::Sheets::Xlsx(x) => measure_extent!(x, first),
        calamine::Sheets::Xlsb(x) => measure_extent!(x, first),
        // .xls (at most 65536 × 256) and .ods (calamine caps it) are bounded by their readers;
        // the range is checked below before it is copied.
        _ => {}
    }
    let range = workbook
        .worksheet_range(&first)
        .map_err(|e| anyhow!("cannot read worksheet \"{first}\": {e}"))?;
    let (height, width) = range.get_size();
    check_extent(height as u64, width as u64)?;
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let mut rows = Vec::new();
    for (i, cells) in range.rows().enumerate() {
        let mut out: Vec<Cell> = (0..col0).map(|_| Cell::Empty).collect();
        out.extend(cells.iter().map(convert));
        rows.push(SheetRow {
            number: row0 as usize + i + 1,
            cells: out,
        });
    }
    if rows.iter().all(SheetRow::is_blank) {
        bail!("the first worksheet (\"{first}\") is empty");
    }
    let mut source = format!("worksheet \"{first}\"");
    if names.len() > 1 {
        source.push_str(&format!(
            " (the first of {}; other worksheets are ignored)",
            names.len()
        ));
    }
    Ok(RawTable { rows, source })
}

/// Largest worksheet read: rows, and cells of the grid from its first to its last cell (an
/// establishment list of a whole province is a few thousand rows of about 20 columns).
pub const MAX_SHEET_ROWS: u64 = 200_000;
pub const MAX_SHEET_CELLS: u64 = 5_000_000;

/// The bounding box of the cells of a worksheet, refused as soon as it passes the limits.
#[derive(Default)]
struct Extent {
    bounds: Option<((u32, u32), (u32, u32))>,
}

impl Extent {
    fn add(&mut self, (row, col): (u32, u32)) -> anyhow::Result<()> {
        let ((r0, c0), (r1, c1)) = self.bounds.unwrap_or(((row, col), (row, col)));
        let bounds = ((r0.min(row), c0.min(col)), (r1.max(row), c1.max(col)));
        self.bounds = Some(bounds);
        let ((r0, c0), (r1, c1)) = bounds;
        check_extent(u64::from(r1 - r0) + 1, u64::from(c1 - c0) + 1)
    }
}

fn check_extent(rows: u64, cols: u64) -> anyhow::Result<()> {
    if rows > MAX_SHEET_ROWS || rows.saturating_mul(cols) > MAX_SHEET_CELLS {
        bail!(
            "the first worksheet spans {rows} rows × {cols} columns, more than an establishment \
             list can have (at most {MAX_SHEET_ROWS} rows and {MAX_SHEET_CELLS} cells): delete \
             the rows and columns past the list, or save it as CSV"
        );
    }
    Ok(())
}

fn convert(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) => {
            if s.trim().is_empty() {
                Cell::Empty
            } else {
                Cell::Text(s.clone())
            }
        }
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => {
            if dt.is_datetime() {
                let (y, m, d, ..) = dt.to_ymd_hms_milli();
                match NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d)) {
                    Some(date) => Cell::Date(date),
                    None => Cell::Number(dt.as_f64()),
                }
            } else {
                Cell::Number(dt.as_f64())
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_comes_from_the_header_line() {
        assert_eq!(detect_delimiter("a,b,c\n1;2;3;4;5"), b',');
        assert_eq!(detect_delimiter("Tên cơ sở;Loại hình;Mã xã\n"), b';');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("\n\n\"x;y\",b,c"), b',');
        assert_eq!(detect_delimiter("one column"), b',');
    }

    #[test]
    fn csv_with_bom_and_semicolons() {
        let rows =
            parse_csv("\u{feff}Tên;Mã xã\r\nA;19753\r\n;\r\nB;\"1,2\"\n".as_bytes()).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].cells[0], Cell::Text("Tên".into()));
        assert_eq!(rows[1].number, 2);
        assert!(rows[2].is_blank());
        assert_eq!(rows[3].cells[1], Cell::Text("1,2".into()));
        assert_eq!(rows[3].number, 4);
    }

    #[test]
    fn csv_row_numbers_count_blank_lines_but_not_breaks_in_cells() {
        for text in [
            "a,b\n\n\"x\ny\",1\n\nc,2\n",
            "a,b\r\n\r\n\"x\r\ny\",1\r\n\r\nc,2",
        ] {
            let rows = parse_csv(text.as_bytes()).unwrap();
            let numbers: Vec<usize> = rows.iter().map(|r| r.number).collect();
            assert_eq!(numbers, vec![1, 3, 5], "{text:?}");
        }
    }

    #[test]
    fn csv_rejects_bad_encodings_and_empty_files() {
        let err = parse_csv(b"T\xean,M\xe3\n").unwrap_err().to_string();
        assert!(err.contains("not UTF-8"), "{err}");
        let err = parse_csv(b"\xff\xfeT\x00").unwrap_err().to_string();
        assert!(err.contains("UTF-16"), "{err}");
        let err = parse_csv(b"  \n\n").unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
        let err = parse_csv(b"\xEF\xBB\xBF").unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn file_kind_by_extension() {
        assert_eq!(FileKind::of(Path::new("a.CSV")).unwrap(), FileKind::Csv);
        assert_eq!(
            FileKind::of(Path::new("a.xlsx")).unwrap(),
            FileKind::Spreadsheet
        );
        let err = FileKind::of(Path::new("a.pdf")).unwrap_err().to_string();
        assert!(err.contains(".pdf") && err.contains(".xlsx"), "{err}");
        assert!(FileKind::of(Path::new("list")).is_err());
    }

    #[test]
    fn cell_text() {
        assert_eq!(Cell::Number(3300123456.0).to_text(), "3300123456");
        assert_eq!(Cell::Number(16.5).to_text(), "16.5");
        let d = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        assert_eq!(Cell::Date(d).to_text(), "05/03/2024");
        assert!(Cell::Text("  ".into()).is_blank());
    }
}
