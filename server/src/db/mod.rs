//! Database access: one portable diesel schema over SQLite (the embedded default) and PostgreSQL,
//! chosen by the URL. SQL lives only below this module; callers get typed functions.

pub mod agencies;
pub mod assignments;
pub mod audit;
pub mod audit_chain;
pub mod cached;
pub mod coverage;
pub mod coverage_status;
pub mod establishments;
pub mod photos;
pub mod planner;
pub mod programmes;
pub mod reports;
pub mod schema;
pub mod teams;
pub mod templates;
pub mod tips;
pub mod tokens;
pub mod units;
pub mod users;
pub mod visits;
mod writer;
// Failed sign-ins (authentication throttling).
pub mod throttle;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// Multi-row INSERT. diesel's `MultiConnection` cannot express batch inserts, so this dispatches
/// to the concrete connection; use it for any `values(&[rows])` / `values(vec_of_tuples)`.
#[macro_export]
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        use diesel::RunQueryDsl as _;
        match $conn {
            $crate::db::AnyConnection::Sqlite(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
            $crate::db::AnyConnection::Postgresql(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
        }
    }};
}

/// Runs `$body` with `$c` bound to the concrete connection behind `$conn`. Through diesel's
/// `MultiConnection` a query's SQL text is rendered again on every execution (its wrapper writes
/// the SQL while collecting the binds), even when the prepared statement is cached; on the
/// concrete connection a query of fixed shape finds its statement by type and is rendered once.
/// For the queries every visit, photo or request runs.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Sqlite($c) => $body,
            $crate::db::AnyConnection::Postgresql($c) => $body,
        }
    };
}

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// A connection to either backend. Queries are written once against `schema` and run on both.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// r2d2 manager that dispatches on the URL scheme (instead of trying every backend in turn) and
/// sets SQLite up for a server: WAL, a busy timeout, foreign keys on.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    backend: Backend,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        match self.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.url)
                .map(AnyConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let path = self.url.strip_prefix("sqlite://").unwrap_or(&self.url);
                let mut conn = diesel::SqliteConnection::establish(path)
                    .map_err(r2d2::Error::ConnectionError)?;
                // temp_store: sorts and temporary b-trees in memory, not in files created and
                // unlinked per statement; mmap_size 0: no memory map (in WAL mode a reader that
                // finds the database changed since its last read unmaps the whole file, then
                // faults each page in again: with writes every few milliseconds that cost more
                // than one pread per page); cache_size: 16 MiB per connection; wal_autocheckpoint: a
                // checkpoint every 4,000 pages instead of 1,000 writes the pages every group
                // commit touches again (index pages, counters) fewer times.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 0; \
                     PRAGMA cache_size = -16000; PRAGMA wal_autocheckpoint = 4000;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type Conn = r2d2::PooledConnection<Manager>;

/// Shared handle to the database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    manager: Manager,
    /// SQLite has one writer at a time: every write transaction runs on this one connection
    /// (opened on first use, outside the pool). Its lock turns "database is locked" upgrade
    /// failures into an orderly queue inside the process, and because no other connection
    /// writes, its page cache stays valid from one transaction to the next. Frequent small
    /// writes are committed in groups ([`Db::write_grouped`]).
    writer: Arc<writer::Writer>,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database: {0}")]
    Open(String),
    #[error("cannot apply migrations: {0}")]
    Migrate(String),
    #[error("database pool: {0}")]
    Pool(#[from] ::r2d2::Error),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// The group transaction a write was part of did not commit (nothing of it was stored).
    #[error("the write was not committed: {0}")]
    NotCommitted(String),
}

impl Db {
    /// Opens (and for SQLite creates) the database. Does not run migrations.
    pub fn open(url: &str, max_connections: u32) -> Result<Db, DbError> {
        let backend = Backend::from_url(url);
        if backend == Backend::Sqlite {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            if let Some(dir) = Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| DbError::Open(format!("{}: {e}", dir.display())))?;
                }
            }
        }
        let manager = Manager {
            url: url.to_string(),
            backend,
        };
        if backend == Backend::Sqlite {
            // Switch the file to WAL once, before the pool opens connections in parallel: the
            // switch needs an exclusive lock, and racing connections would log "database is locked".
            manager
                .connect()
                .map_err(|e| DbError::Open(e.to_string()))?;
        }
        let pool = r2d2::Pool::builder()
            .max_size(max_connections)
            .connection_timeout(Duration::from_secs(15))
            // A check (`SELECT 1`) on every check-out finds a PostgreSQL connection the server
            // closed; a SQLite connection is a file this process holds open, and the check was
            // one more statement to parse and run on every request.
            .test_on_check_out(backend == Backend::Postgres)
            .build(manager.clone())
            .map_err(|e| DbError::Open(e.to_string()))?;
        Ok(Db {
            pool,
            backend,
            manager,
            writer: Arc::new(writer::Writer::default()),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn conn(&self) -> Result<Conn, DbError> {
        Ok(self.pool.get()?)
    }

    /// A pooled connection if one is idle right now (never waits for one).
    pub fn try_conn(&self) -> Option<Conn> {
        self.pool.try_get()
    }

    /// Applies pending migrations; returns the names of those applied.
    pub fn migrate(&self) -> Result<Vec<String>, DbError> {
        let mut conn = self.conn()?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let applied = conn
            .run_pending_migrations(migrations)
            .map_err(|e| DbError::Migrate(e.to_string()))?;
        Ok(applied.iter().map(|v| v.to_string()).collect())
    }

    /// Runs `f` in a read-write transaction. Everything `f` writes lands together or not at all.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<DbError>,
    {
        match self.backend {
            Backend::Sqlite => self.writer.run_now(&self.manager, f),
            Backend::Postgres => {
                let mut pooled = self.conn()?;
                let conn: &mut AnyConnection = &mut pooled;
                conn.transaction(f)
            }
        }
    }

    /// [`Db::write`] for the frequent small writes of many clients at once (visits, photos), from
    /// an async caller (a request handler): on SQLite, `f` joins the writes queued at the same
    /// moment and they commit in one transaction (see [`writer`]: `f` runs a second time, in a
    /// savepoint, if another write of the group fails); the task waits for that commit without
    /// holding a thread. On PostgreSQL it is [`Db::write`] on a blocking thread.
    pub async fn write_grouped<T, E>(
        &self,
        f: impl Fn(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<diesel::result::Error> + From<DbError> + Send + 'static,
    {
        match self.backend {
            Backend::Sqlite => self.writer.run_grouped(&self.manager, f).await,
            Backend::Postgres => {
                let db = self.clone();
                on_blocking_thread(move || db.write(f)).await
            }
        }
    }

    /// [`Db::read`] for an async caller: on its own thread when [`Db::try_read_here`] can,
    /// otherwise on a blocking thread.
    pub async fn read_async<T, E>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<diesel::result::Error> + From<DbError> + Send + 'static,
    {
        let snapshot = move |conn: &mut AnyConnection| conn.transaction(f);
        match self.try_read_here(snapshot) {
            Ok(done) => done,
            Err(snapshot) => {
                let db = self.clone();
                on_blocking_thread(move || {
                    let mut pooled = db.conn()?;
                    snapshot(&mut pooled)
                })
                .await
            }
        }
    }

    /// Runs `f` on the caller's own thread when that cannot wait: on SQLite (a few indexed reads
    /// of a local file take less time than handing them to another thread and back) with a
    /// pooled connection idle right now. Otherwise (PostgreSQL, whose reads wait on the network,
    /// or no idle connection) gives `f` back unrun. `f` runs outside a transaction: one
    /// statement, or its own `conn.transaction` for a consistent snapshot.
    pub fn try_read_here<T, E, F>(&self, f: F) -> Result<Result<T, E>, F>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    {
        if self.backend != Backend::Sqlite {
            return Err(f);
        }
        match self.try_conn() {
            Some(mut pooled) => Ok(f(&mut pooled)),
            None => Err(f),
        }
    }

    /// Runs `f` on a pooled connection, in a transaction so that it reads one consistent snapshot.
    pub fn read<T, E>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<DbError>,
    {
        let mut pooled = self.conn()?;
        let conn: &mut AnyConnection = &mut pooled;
        conn.transaction(f)
    }

    /// Liveness check used by /healthz.
    pub fn ping(&self) -> Result<(), DbError> {
        let mut conn = self.conn()?;
        conn.batch_execute("SELECT 1")?;
        Ok(())
    }
}

/// Runs blocking database work on the runtime's blocking threads and waits for it.
async fn on_blocking_thread<T, E>(f: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(E::from(DbError::NotCommitted(format!(
            "the database work stopped: {e}"
        ))))
    })
}

/// Takes the next value of the global change counter. Call inside a write transaction; the row
/// lock it takes is held to commit, so values become visible in commit order.
pub fn next_seq(conn: &mut AnyConnection) -> QueryResult<i64> {
    use schema::sync_counter::dsl::*;
    crate::on_conn!(conn, |c| crate::cached!(diesel::update(
        sync_counter.filter(id.eq(1))
    )
    .set(value.eq(value + 1))
    .returning(value))
    .get_result(c))
}

/// Highest change number committed so far.
pub fn current_seq(conn: &mut AnyConnection) -> QueryResult<i64> {
    use schema::sync_counter::dsl::*;
    sync_counter.filter(id.eq(1)).select(value).first(conn)
}

/// A database that cannot be reached is a 503 the client may retry; a failed query is what
/// `ApiError::from(diesel::result::Error)` makes of it.
impl From<DbError> for crate::error::ApiError {
    fn from(e: DbError) -> crate::error::ApiError {
        match e {
            DbError::Query(q) => q.into(),
            other => {
                tracing::error!(error = %other, "database unavailable");
                crate::error::ApiError::unavailable(
                    "the database is not reachable; try again shortly",
                )
            }
        }
    }
}
