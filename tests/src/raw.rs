//! Direct database access: the tests' stand-in for someone with database credentials (SQLite
//! file or PostgreSQL URL).

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text as SqlText;

pub enum Raw {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

#[derive(diesel::QueryableByName)]
pub struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub v: String,
}

impl Raw {
    pub fn open(url: &str) -> Raw {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Raw::Pg(diesel::PgConnection::establish(url).expect("connect to PostgreSQL"))
        } else {
            let mut c = diesel::SqliteConnection::establish(url).expect("open SQLite");
            c.batch_execute("PRAGMA busy_timeout = 10000;").unwrap();
            Raw::Sqlite(c)
        }
    }

    pub fn exec(&mut self, sql: &str) {
        let r = match self {
            Raw::Sqlite(c) => c.batch_execute(sql),
            Raw::Pg(c) => c.batch_execute(sql),
        };
        r.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The first column (named `v`, text) of every row.
    pub fn texts(&mut self, sql: &str) -> Vec<String> {
        use diesel::RunQueryDsl;
        let r: diesel::QueryResult<Vec<Text>> = match self {
            Raw::Sqlite(c) => diesel::sql_query(sql).load(c),
            Raw::Pg(c) => diesel::sql_query(sql).load(c),
        };
        r.unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|t: Text| t.v)
            .collect()
    }

    pub fn text(&mut self, sql: &str) -> String {
        let mut rows = self.texts(sql);
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows.remove(0)
    }

    pub fn int(&mut self, sql: &str) -> i64 {
        self.text(sql).parse().expect("a number")
    }

    pub fn tables(&mut self) -> std::collections::BTreeSet<String> {
        let sql = match self {
            Raw::Sqlite(_) => {
                "SELECT name AS v FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%'"
            }
            Raw::Pg(_) => "SELECT tablename AS v FROM pg_tables WHERE schemaname = 'public'",
        };
        self.texts(sql)
            .into_iter()
            .filter(|t| t != "__diesel_schema_migrations")
            .collect()
    }

    pub fn last_seq(&mut self) -> i64 {
        self.int("SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) AS v FROM audit_log")
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = SqlText)]
    r: String,
}

/// Every row of every table as text, per table (sorted), read from a SQLite file or PostgreSQL.
pub fn all_rows(db_url: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    if db_url.starts_with("postgres") {
        let mut c = diesel::PgConnection::establish(db_url).unwrap();
        c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .unwrap();
        let tables: Vec<Line> = diesel::sql_query(
            "SELECT table_name::text AS r FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .load(&mut c)
        .unwrap();
        for t in tables {
            let mut rows: Vec<String> = diesel::sql_query(format!(
                "SELECT row_to_json(x)::text AS r FROM \"{}\" x",
                t.r
            ))
            .load::<Line>(&mut c)
            .unwrap()
            .into_iter()
            .map(|l| l.r)
            .collect();
            rows.sort();
            out.insert(t.r, rows);
        }
        c.batch_execute("COMMIT").unwrap();
    } else {
        let mut c = diesel::SqliteConnection::establish(db_url).unwrap();
        c.batch_execute("PRAGMA busy_timeout = 10000; BEGIN")
            .unwrap();
        let tables: Vec<Line> = diesel::sql_query(
            "SELECT name AS r FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .load(&mut c)
        .unwrap();
        for t in tables {
            let cols: Vec<Line> = diesel::sql_query(format!(
                "SELECT name AS r FROM pragma_table_info('{}')",
                t.r
            ))
            .load(&mut c)
            .unwrap();
            let expr = cols
                .iter()
                .map(|col| format!("quote(\"{}\")", col.r))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let mut rows: Vec<String> =
                diesel::sql_query(format!("SELECT {expr} AS r FROM \"{}\"", t.r))
                    .load::<Line>(&mut c)
                    .unwrap()
                    .into_iter()
                    .map(|l| l.r)
                    .collect();
            rows.sort();
            out.insert(t.r, rows);
        }
        c.batch_execute("COMMIT").unwrap();
    }
    out
}

/// Photo ids and their stored SHA-256 (the `photos` table).
pub fn photo_rows(db_url: &str) -> Vec<(String, String)> {
    #[derive(QueryableByName)]
    struct P {
        #[diesel(sql_type = SqlText)]
        id: String,
        #[diesel(sql_type = SqlText)]
        sha256: String,
    }
    let q = "SELECT id, sha256 FROM photos ORDER BY id";
    let rows: Vec<P> = if db_url.starts_with("postgres") {
        let mut c = diesel::PgConnection::establish(db_url).unwrap();
        diesel::sql_query(q).load(&mut c).unwrap()
    } else {
        let mut c = diesel::SqliteConnection::establish(db_url).unwrap();
        diesel::sql_query(q).load(&mut c).unwrap()
    };
    rows.into_iter().map(|p| (p.id, p.sha256)).collect()
}
