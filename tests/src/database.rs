//! The database a test server runs on: SQLite (default: a file in a temporary data directory), or
//! PostgreSQL when `DOI178_TEST_DATABASE_URL` holds an admin URL
//! (`postgres://postgres@127.0.0.1:5432/postgres`); then every server gets its own database,
//! dropped again at the end.
//!
//! The demo generator runs once per backend, server build and demo size: its output is kept as a
//! template (a SQLite file plus the photo folder under the target directory; a PostgreSQL template
//! database) and copied for each test.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::server::{run_demo, server_bin};

/// Size of the demo data a server starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Demo {
    pub establishments: u32,
    pub visits: u32,
}

impl Default for Demo {
    /// The size the black-box tests run on.
    fn default() -> Self {
        Demo {
            establishments: 300,
            visits: 400,
        }
    }
}

/// Which backend a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// PostgreSQL when `DOI178_TEST_DATABASE_URL` is set, SQLite otherwise.
    #[default]
    FromEnv,
    /// SQLite whatever the environment says.
    Sqlite,
}

/// The PostgreSQL admin URL of `DOI178_TEST_DATABASE_URL`, when set and not empty.
pub fn admin_url() -> Option<String> {
    std::env::var("DOI178_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// `"postgres"` or `"sqlite"`: the backend of `DOI178_TEST_DATABASE_URL`.
pub fn backend_name() -> &'static str {
    if admin_url().is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

pub(crate) fn random_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

fn hash_str(parts: &[&str]) -> String {
    let mut h = DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// Identifies the server build, so templates are regenerated whenever the binary changes.
fn server_build_key(bin: &Path) -> String {
    let meta = std::fs::metadata(bin).expect("server binary metadata");
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    hash_str(&[
        &bin.display().to_string(),
        &meta.len().to_string(),
        &mtime.to_string(),
    ])
}

fn template_root(bin: &Path) -> PathBuf {
    bin.parent()
        .expect("binary directory")
        .join("doi178-test-templates")
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{db}?{q}"),
        None => format!("{prefix}/{db}"),
    }
}

/// Copies the directory `from` to `to` (recursively; `ready` markers left out).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    if !from.exists() {
        return;
    }
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "ready" {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn demo_or_panic(bin: &Path, database_url: &str, data_dir: &Path, demo: Demo) {
    let started = Instant::now();
    run_demo(
        bin,
        database_url,
        data_dir,
        demo.establishments,
        demo.visits,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "[harness] demo data generated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------

/// A prepared copy of the demo data for one server: its data directory and database.
pub struct Database {
    pub url: String,
    pub data_dir: tempfile::TempDir,
    /// PostgreSQL: (admin URL, database name) to drop at the end.
    pg: Option<(String, String)>,
}

impl Database {
    /// A fresh copy of the demo data of size `demo` on `backend`.
    pub fn fresh(demo: Demo, backend: Backend) -> Database {
        let data_dir = tempfile::Builder::new()
            .prefix("doi178-test-")
            .tempdir()
            .unwrap();
        let admin = match backend {
            Backend::FromEnv => admin_url(),
            Backend::Sqlite => None,
        };
        match admin {
            None => {
                let dir = sqlite_template(demo);
                copy_dir(&dir, data_dir.path());
                let url = data_dir.path().join("doi178.sqlite").display().to_string();
                Database {
                    url,
                    data_dir,
                    pg: None,
                }
            }
            Some(admin_url) => {
                let t = pg_template(&admin_url, demo);
                let name = format!("doi178_test_{}", random_suffix());
                {
                    let _guard = PG_CREATE.lock().unwrap_or_else(|e| e.into_inner());
                    let mut admin = pg_connect(&t.admin_url);
                    admin
                        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {}", t.db))
                        .unwrap_or_else(|e| {
                            panic!("CREATE DATABASE {name} TEMPLATE {}: {e}", t.db)
                        });
                }
                copy_dir(&t.photos, data_dir.path());
                Database {
                    url: with_database(&t.admin_url, &name),
                    data_dir,
                    pg: Some((t.admin_url.clone(), name)),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            drop_database(admin, name);
        }
    }
}

fn drop_database(admin: &str, name: &str) {
    if let Ok(mut c) = diesel::PgConnection::establish(admin) {
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

#[derive(Clone)]
struct PgTemplate {
    admin_url: String,
    db: String,
    photos: PathBuf,
}

static SQLITE_TEMPLATES: OnceLock<Mutex<HashMap<Demo, PathBuf>>> = OnceLock::new();
static PG_TEMPLATES: OnceLock<Mutex<HashMap<(String, Demo), PgTemplate>>> = OnceLock::new();
/// CREATE DATABASE … TEMPLATE refuses to run while another copy of the same template is made.
static PG_CREATE: Mutex<()> = Mutex::new(());

fn demo_tag(demo: Demo) -> String {
    format!("{}x{}", demo.establishments, demo.visits)
}

/// The SQLite template of `demo`: `sqlite-<server build>-<size>` beside the server binary.
fn sqlite_template(demo: Demo) -> PathBuf {
    let mut all = SQLITE_TEMPLATES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = all.get(&demo) {
        return dir.clone();
    }
    let bin = server_bin();
    let root = template_root(&bin);
    let key = server_build_key(&bin);
    let dir = root.join(format!("sqlite-{key}-{}", demo_tag(demo)));
    if !dir.join("ready").is_file() {
        std::fs::create_dir_all(&root).unwrap();
        // Build next to the final place, then rename: a crash never leaves a half template.
        let build = root.join(format!("build-{}-{}", std::process::id(), random_suffix()));
        std::fs::create_dir_all(&build).unwrap();
        let db_file = build.join("doi178.sqlite");
        demo_or_panic(&bin, &db_file.display().to_string(), &build, demo);
        std::fs::write(build.join("ready"), b"ok").unwrap();
        if std::fs::rename(&build, &dir).is_err() {
            // Another test binary finished first; use its copy.
            let _ = std::fs::remove_dir_all(&build);
            assert!(
                dir.join("ready").is_file(),
                "template {} unusable",
                dir.display()
            );
        }
        // Templates of earlier builds of the server are no use any more.
        if let Ok(entries) = std::fs::read_dir(&root) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with("sqlite-") && !name.starts_with(&format!("sqlite-{key}-")) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
    all.insert(demo, dir.clone());
    dir
}

fn pg_connect(url: &str) -> diesel::PgConnection {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match diesel::PgConnection::establish(url) {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => {
                panic!("cannot connect to PostgreSQL at {url}: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

#[derive(diesel::QueryableByName)]
struct DbName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

fn pg_databases(conn: &mut diesel::PgConnection, prefix: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    diesel::sql_query(format!(
        "SELECT datname FROM pg_database WHERE starts_with(datname, '{prefix}')"
    ))
    .load::<DbName>(conn)
    .unwrap_or_else(|e| panic!("listing databases: {e}"))
    .into_iter()
    .map(|d| d.datname)
    .collect()
}

/// The PostgreSQL template: `doi178_tpl_<server build>_<size>` with its photo folder, reused while
/// the server binary and the cluster stay the same; built under a temporary name and renamed, so a
/// crash never leaves a half template.
fn pg_template(admin_url: &str, demo: Demo) -> PgTemplate {
    let mut all = PG_TEMPLATES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(t) = all.get(&(admin_url.to_string(), demo)) {
        return t.clone();
    }
    let bin = server_bin();
    let key = server_build_key(&bin);
    let root = template_root(&bin);
    std::fs::create_dir_all(&root).unwrap();
    let tag = demo_tag(demo);
    let db = format!("doi178_tpl_{key}_{tag}");
    let photos = root.join(format!("pg-{key}-{}-{tag}", hash_str(&[admin_url])));
    // Photo folders of earlier server builds, and of builds that crashed long ago.
    for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let stale_build = name.starts_with("pgbuild-")
            && e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(3600));
        if stale_build || (name.starts_with("pg-") && !name.starts_with(&format!("pg-{key}-"))) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let mut admin = pg_connect(admin_url);
    let templates = pg_databases(&mut admin, "doi178_tpl_");
    // Templates of earlier server builds are no use any more (best effort: one being copied
    // right now by another run stays).
    for old in templates
        .iter()
        .filter(|t| !t.starts_with(&format!("doi178_tpl_{key}_")))
    {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {old}"));
    }
    let t = PgTemplate {
        admin_url: admin_url.to_string(),
        db: db.clone(),
        photos: photos.clone(),
    };
    if templates.contains(&db) && photos.join("ready").is_file() {
        all.insert((admin_url.to_string(), demo), t.clone());
        return t;
    }
    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    let build = format!("doi178_build_{}_{}", std::process::id(), random_suffix());
    admin
        .batch_execute(&format!("CREATE DATABASE {build}"))
        .unwrap_or_else(|e| panic!("CREATE DATABASE {build}: {e}"));
    let build_dir = root.join(format!(
        "pgbuild-{}-{}",
        std::process::id(),
        random_suffix()
    ));
    std::fs::create_dir_all(&build_dir).unwrap();
    demo_or_panic(&bin, &with_database(admin_url, &build), &build_dir, demo);
    std::fs::write(build_dir.join("ready"), b"ok").unwrap();
    let _ = std::fs::remove_dir_all(&photos);
    std::fs::rename(&build_dir, &photos).unwrap();
    admin
        .batch_execute(&format!("ALTER DATABASE {build} RENAME TO {db}"))
        .unwrap_or_else(|e| panic!("ALTER DATABASE {build} RENAME TO {db}: {e}"));
    all.insert((admin_url.to_string(), demo), t.clone());
    t
}

// ---------------------------------------------------------------------------------------------
// An empty database for a data directory the caller controls
// ---------------------------------------------------------------------------------------------

/// A database for one data directory: `<dir>/doi178.sqlite`, or a new PostgreSQL database on
/// the cluster of an admin URL (dropped at the end unless kept).
pub struct TestDb {
    pub url: String,
    pg: Option<(String, String)>,
    keep: bool,
}

impl TestDb {
    /// An empty database for `data_dir`, on PostgreSQL when `DOI178_TEST_DATABASE_URL` is set.
    pub fn new(data_dir: &Path) -> TestDb {
        Self::create(data_dir, admin_url().as_deref(), "doi178_st")
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// An empty database for `data_dir`: SQLite, or a new database `<prefix>_<random>` on the
    /// PostgreSQL cluster of `postgres_admin`.
    pub fn create(
        data_dir: &Path,
        postgres_admin: Option<&str>,
        prefix: &str,
    ) -> Result<TestDb, String> {
        match postgres_admin {
            None => Ok(TestDb {
                url: data_dir.join("doi178.sqlite").display().to_string(),
                pg: None,
                keep: false,
            }),
            Some(admin) => {
                let name = format!("{prefix}_{}", random_suffix());
                let mut c = diesel::PgConnection::establish(admin)
                    .map_err(|e| format!("connect to PostgreSQL at {admin}: {e}"))?;
                c.batch_execute(&format!("CREATE DATABASE {name}"))
                    .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
                Ok(TestDb {
                    url: with_database(admin, &name),
                    pg: Some((admin.to_string(), name)),
                    keep: false,
                })
            }
        }
    }

    /// The database stays when this is dropped.
    pub fn keep(&mut self) {
        self.keep = true;
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        if let Some((admin, name)) = &self.pg {
            drop_database(admin, name);
        }
    }
}
