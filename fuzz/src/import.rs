//! The server's import modules, compiled from its files.
#[path = "../../server/src/service/import/columns.rs"]
pub mod columns;
#[path = "../../server/src/service/import/records.rs"]
pub mod records;
#[path = "../../server/src/service/import/table.rs"]
pub mod table;
#[path = "../../server/src/service/import/values.rs"]
pub mod values;

/// What the server does with an uploaded list before it touches the database
/// (`import::parse`): read the table, find the header, read every non-blank row.
pub fn parse(name: &str, bytes: &[u8]) {
    let Ok(raw) = table::read_bytes(name, bytes) else {
        return;
    };
    let Some(header_at) = columns::find_header(&raw.rows) else {
        return;
    };
    let Ok(cols) = columns::Columns::from_header_row(&raw.rows[header_at]) else {
        return;
    };
    let mut errors = Vec::new();
    for row in raw.rows[header_at + 1..].iter().filter(|r| !r.is_blank()) {
        let _ = records::read_record(row, &cols, &mut errors);
        for (i, _) in cols.found.values() {
            let _ = row.cell(*i).to_text();
        }
    }
    for e in &errors {
        let _ = e.to_string();
    }
}
