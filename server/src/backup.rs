//! `backup` and `restore`: a consistent copy of the database plus every photo, with a manifest
//! (row counts per table, SHA-256 of every photo, schema version, time) that `restore` checks
//! before it installs anything.
//!
//! SQLite: `VACUUM INTO` writes a consistent snapshot (one read transaction) while the server keeps
//! running and writing. The photos copied are exactly those the snapshot lists: photo bytes are
//! stored before their row commits and never change, so every listed photo is already complete.
//!
//! PostgreSQL: the row counts and the photo list are read in a REPEATABLE READ transaction whose
//! snapshot is exported to `pg_dump --snapshot`, so the dump, the counts and the photos agree.
//! `pg_dump` / `pg_restore` must be installed (Debian: `postgresql-client`); without them the
//! command fails and prints the command to run by hand.
//!
//! Photos in an S3 store stay there: the manifest lists their hashes (read from the store), and
//! `restore` checks that the store still holds them, unchanged.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context};
use clap::Args;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::{PhotoStoreSettings, Settings};
use crate::db::Backend;
use crate::storage::{relative_key, PhotoStore, Variant};

pub const MANIFEST: &str = "manifest.json";
const FORMAT: u32 = 1;
const SQLITE_FILE: &str = "doi178.sqlite";
const PG_DUMP_FILE: &str = "database.pgdump";
/// Files of the data directory that go along (the token secret: restored sessions stay valid).
const EXTRA_FILES: &[&str] = &["jwt-secret"];

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Where to write the backup: a new (or empty) directory, or a file ending in `.tar`.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The backup: its directory or its `.tar` file.
    #[arg(long)]
    pub from: PathBuf,
    /// Replace the database and photos of a data directory (or PostgreSQL database) that is not
    /// empty. Stop the server first.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub created_at: String,
    pub server_version: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The last database migration applied.
    pub schema_version: String,
    pub database: FileEntry,
    /// Rows per table in the snapshot.
    pub tables: BTreeMap<String, i64>,
    /// `local` (the photos are in the backup) or the S3 location (they stayed there).
    pub photo_store: String,
    pub photos: Vec<PhotoEntry>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Relative to the backup's root.
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PhotoEntry {
    pub id: Uuid,
    /// `full` or `thumbnail`.
    pub variant: String,
    /// Relative to the backup's root; None when the photo stayed in the S3 store.
    pub path: Option<String>,
    pub sha256: String,
    pub size: u64,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn file_sha256(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h).with_context(|| format!("reading {}", path.display()))?;
    Ok((hex::encode(h.finalize()), n))
}

fn variant_name(v: Variant) -> &'static str {
    match v {
        Variant::Full => "full",
        Variant::Thumbnail => "thumbnail",
    }
}

fn parse_variant(s: &str) -> anyhow::Result<Variant> {
    match s {
        "full" => Ok(Variant::Full),
        "thumbnail" => Ok(Variant::Thumbnail),
        other => bail!("unknown photo variant `{other}`"),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut f =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", path.display()))
}

/// Prints `what n/total` about every tenth of the way (and at the end).
struct Progress {
    what: &'static str,
    total: usize,
    step: usize,
}

impl Progress {
    fn new(what: &'static str, total: usize) -> Progress {
        Progress {
            what,
            total,
            step: (total / 10).max(1),
        }
    }
    fn tick(&self, done: usize) {
        if done == self.total || done.checked_rem(self.step) == Some(0) {
            eprintln!("  {} {done}/{}", self.what, self.total);
        }
    }
}

#[derive(QueryableByName)]
struct NameRow {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = Nullable<Text>)]
    version: Option<String>,
}

/// Quotes an identifier that came from the database catalogue.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Tables, row counts, schema version and photo ids as one connection sees them.
struct Snapshot {
    tables: BTreeMap<String, i64>,
    schema_version: String,
    photo_ids: Vec<String>,
}

macro_rules! snapshot_reader {
    ($name:ident, $conn:ty) => {
        fn $name(conn: &mut $conn, table_list_sql: &str) -> anyhow::Result<Snapshot> {
            let names: Vec<NameRow> = diesel::sql_query(table_list_sql)
                .load(conn)
                .context("listing tables")?;
            let mut tables = BTreeMap::new();
            for t in names {
                let c: CountRow =
                    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {}", ident(&t.name)))
                        .get_result(conn)
                        .with_context(|| format!("counting rows of {}", t.name))?;
                tables.insert(t.name, c.n);
            }
            let version: VersionRow =
                diesel::sql_query("SELECT MAX(version) AS version FROM __diesel_schema_migrations")
                    .get_result(conn)
                    .context("reading the schema version")?;
            let photo_ids: Vec<NameRow> =
                diesel::sql_query("SELECT id AS name FROM photos ORDER BY id")
                    .load(conn)
                    .context("listing photos")?;
            Ok(Snapshot {
                tables,
                schema_version: version.version.unwrap_or_default(),
                photo_ids: photo_ids.into_iter().map(|r| r.name).collect(),
            })
        }
    };
}

snapshot_reader!(read_snapshot_sqlite, diesel::SqliteConnection);
snapshot_reader!(read_snapshot_pg, diesel::PgConnection);

const SQLITE_TABLES: &str = "SELECT name FROM sqlite_master WHERE type = 'table' \
     AND name NOT LIKE 'sqlite_%' ORDER BY name";
const PG_TABLES: &str = "SELECT table_name::text AS name FROM information_schema.tables \
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name";

fn sqlite_path(url: &str) -> PathBuf {
    PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url))
}

fn sqlite_open(path: &Path) -> anyhow::Result<diesel::SqliteConnection> {
    let mut c = diesel::SqliteConnection::establish(&path.display().to_string())
        .map_err(|e| anyhow!("cannot open {}: {e}", path.display()))?;
    c.batch_execute("PRAGMA busy_timeout = 10000;")?;
    Ok(c)
}

/// `pg_dump` / `pg_restore` on PATH, or in Debian's `/usr/lib/postgresql/<version>/bin` (newest).
fn pg_tool(name: &str) -> Option<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let p = e.path().join("bin").join(name);
            p.is_file().then_some((v, p))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p)
}

/// A sibling of `path` to build in, so that the final rename is atomic.
fn staging_next_to(path: &Path, what: &str) -> anyhow::Result<PathBuf> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        bail!("{} does not exist", parent.display());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "backup".to_string());
    let dir = parent.join(format!(
        ".{name}.{what}-{}",
        &Uuid::new_v4().simple().to_string()[..8]
    ));
    std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

fn dir_is_empty(dir: &Path) -> anyhow::Result<bool> {
    Ok(std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .next()
        .is_none())
}

// ---------------------------------------------------------------------------------------------
// backup
// ---------------------------------------------------------------------------------------------

pub fn backup(settings: &Settings, args: &BackupArgs) -> anyhow::Result<()> {
    let to_tar = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tar"));
    if to_tar {
        if args.out.exists() {
            bail!("{} already exists; choose a new file", args.out.display());
        }
    } else if args.out.exists() && (!args.out.is_dir() || !dir_is_empty(&args.out)?) {
        bail!(
            "{} already exists and is not an empty directory; choose a new one",
            args.out.display()
        );
    }
    let backend = Backend::from_url(&settings.database_url);
    if backend == Backend::Sqlite {
        let db = sqlite_path(&settings.database_url);
        if !db.is_file() {
            bail!(
                "no database at {} (check --data-dir / --database-url)",
                db.display()
            );
        }
    }
    let store = crate::storage::open(settings)?;
    let staging = staging_next_to(&args.out, "partial")?;
    let result = backup_into(settings, backend, store.as_ref(), &staging);
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    if to_tar {
        let tmp = staging.with_extension("tar");
        let packed = (|| -> anyhow::Result<()> {
            let file = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            let mut tar = tar::Builder::new(file);
            tar.append_dir_all(".", &staging)?;
            let file = tar.into_inner()?;
            file.sync_all()?;
            std::fs::rename(&tmp, &args.out)
                .with_context(|| format!("cannot write {}", args.out.display()))?;
            Ok(())
        })();
        let _ = std::fs::remove_dir_all(&staging);
        if let Err(e) = packed {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    } else {
        if args.out.is_dir() {
            std::fs::remove_dir(&args.out)?;
        }
        std::fs::rename(&staging, &args.out)
            .with_context(|| format!("cannot move the backup to {}", args.out.display()))?;
    }
    let rows: i64 = manifest.tables.values().sum();
    println!(
        "backup written to {}: {} rows in {} tables, {} photo files ({}), schema {}",
        args.out.display(),
        rows,
        manifest.tables.len(),
        manifest.photos.len(),
        manifest.photo_store,
        manifest.schema_version
    );
    Ok(())
}

fn backup_into(
    settings: &Settings,
    backend: Backend,
    store: &dyn PhotoStore,
    staging: &Path,
) -> anyhow::Result<Manifest> {
    eprintln!("backup: snapshot of the database");
    let (snapshot, database) = match backend {
        Backend::Sqlite => {
            let mut live = sqlite_open(&sqlite_path(&settings.database_url))?;
            let target = staging.join(SQLITE_FILE);
            let target_s = target.display().to_string().replace('\'', "''");
            // One read transaction: a consistent snapshot while the server keeps writing.
            live.batch_execute(&format!("VACUUM INTO '{target_s}'"))
                .context("VACUUM INTO (the database snapshot)")?;
            drop(live);
            sync_file(&target)?;
            let mut snap = sqlite_open(&target)?;
            let snapshot = read_snapshot_sqlite(&mut snap, SQLITE_TABLES)?;
            let (sha256, size) = file_sha256(&target)?;
            (
                snapshot,
                FileEntry {
                    path: SQLITE_FILE.to_string(),
                    sha256,
                    size,
                },
            )
        }
        Backend::Postgres => {
            let mut conn = diesel::PgConnection::establish(&settings.database_url)
                .map_err(|e| anyhow!("cannot connect to PostgreSQL: {e}"))?;
            conn.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
            let id: NameRow = diesel::sql_query("SELECT pg_export_snapshot() AS name")
                .get_result(&mut conn)
                .context("exporting the snapshot")?;
            let snapshot = read_snapshot_pg(&mut conn, PG_TABLES)?;
            let target = staging.join(PG_DUMP_FILE);
            let Some(pg_dump) = pg_tool("pg_dump") else {
                bail!(
                    "pg_dump is not installed (Debian: apt-get install postgresql-client). \
                     Dump the database by hand with\n  pg_dump --format=custom --no-owner \
                     --file database.pgdump '<database url>'\nand back up the photos of {}",
                    store.describe()
                );
            };
            // The dump sees exactly the snapshot counted above (the transaction stays open).
            let out = Command::new(&pg_dump)
                .arg("--format=custom")
                .arg("--no-owner")
                .arg(format!("--snapshot={}", id.name))
                .arg("--file")
                .arg(&target)
                .arg("--dbname")
                .arg(&settings.database_url)
                .output()
                .with_context(|| format!("running {}", pg_dump.display()))?;
            if !out.status.success() {
                bail!(
                    "pg_dump failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            conn.batch_execute("COMMIT")?;
            sync_file(&target)?;
            let (sha256, size) = file_sha256(&target)?;
            (
                snapshot,
                FileEntry {
                    path: PG_DUMP_FILE.to_string(),
                    sha256,
                    size,
                },
            )
        }
    };
    let local = matches!(settings.photo_store, PhotoStoreSettings::Local);
    eprintln!(
        "backup: {} photos from {}",
        snapshot.photo_ids.len(),
        store.describe()
    );
    let progress = Progress::new("photos", snapshot.photo_ids.len());
    let mut photos = Vec::with_capacity(snapshot.photo_ids.len() * 2);
    for (i, id_s) in snapshot.photo_ids.iter().enumerate() {
        let id = Uuid::parse_str(id_s).with_context(|| format!("photo id `{id_s}`"))?;
        for variant in [Variant::Full, Variant::Thumbnail] {
            let bytes = store
                .get(id, variant)
                .with_context(|| format!("reading photo {id} ({})", variant_name(variant)))?
                .ok_or_else(|| {
                    anyhow!(
                        "photo {id} ({}) is listed in the database but missing from {}",
                        variant_name(variant),
                        store.describe()
                    )
                })?;
            let path = if local {
                let rel = format!("photos/{}", relative_key(id, variant));
                write_synced(&staging.join(&rel), &bytes)?;
                Some(rel)
            } else {
                None
            };
            photos.push(PhotoEntry {
                id,
                variant: variant_name(variant).to_string(),
                path,
                sha256: sha256_hex(&bytes),
                size: bytes.len() as u64,
            });
        }
        progress.tick(i + 1);
    }
    let mut files = Vec::new();
    for name in EXTRA_FILES {
        let src = settings.data_dir.join(name);
        if src.is_file() {
            let bytes =
                std::fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
            write_synced(&staging.join(name), &bytes)?;
            files.push(FileEntry {
                path: name.to_string(),
                sha256: sha256_hex(&bytes),
                size: bytes.len() as u64,
            });
        }
    }
    let manifest = Manifest {
        format: FORMAT,
        created_at: chrono::Utc::now().to_rfc3339(),
        server_version: env!("CARGO_PKG_VERSION").to_string(),
        backend: match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .to_string(),
        schema_version: snapshot.schema_version,
        database,
        tables: snapshot.tables,
        photo_store: if local {
            "local".to_string()
        } else {
            store.describe()
        },
        photos,
        files,
    };
    write_synced(
        &staging.join(MANIFEST),
        &serde_json::to_vec_pretty(&manifest)?,
    )?;
    Ok(manifest)
}

// ---------------------------------------------------------------------------------------------
// restore
// ---------------------------------------------------------------------------------------------

pub fn restore(settings: &Settings, args: &RestoreArgs) -> anyhow::Result<()> {
    if !args.from.exists() {
        bail!("backup {} does not exist", args.from.display());
    }
    let backend = Backend::from_url(&settings.database_url);
    if backend == Backend::Sqlite && !args.force {
        let target = sqlite_path(&settings.database_url);
        if target.exists() {
            bail!(
                "database {} already exists; restore into a new one, or pass --force to replace \
                 it (stop the server first)",
                target.display()
            );
        }
    }
    // The target must be empty (or --force).
    let data_dir = &settings.data_dir;
    if data_dir.exists() && !data_dir.is_dir() {
        bail!("data directory {} is not a directory", data_dir.display());
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    if !args.force && !dir_is_empty(data_dir)? {
        bail!(
            "data directory {} is not empty; restore into a new directory, or pass --force to \
             replace its database and photos (stop the server first)",
            data_dir.display()
        );
    }
    // A .tar is unpacked next to the data directory first.
    let (root, unpacked) = if args.from.is_file() {
        let dir = staging_next_to(data_dir, "unpack")?;
        eprintln!("restore: unpacking {}", args.from.display());
        let unpack = std::fs::File::open(&args.from)
            .map_err(anyhow::Error::from)
            .and_then(|f| Ok(tar::Archive::new(f).unpack(&dir)?));
        if let Err(e) = unpack {
            let _ = std::fs::remove_dir_all(&dir);
            bail!(
                "{} is not a readable backup archive: {e}",
                args.from.display()
            );
        }
        (dir.clone(), Some(dir))
    } else {
        (args.from.clone(), None)
    };
    let result = restore_from(settings, backend, args, &root);
    if let Some(dir) = unpacked {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn read_manifest(root: &Path) -> anyhow::Result<Manifest> {
    let path = root.join(MANIFEST);
    let text = std::fs::read(&path).with_context(|| {
        format!(
            "{} has no {MANIFEST}: is it a doi178 backup?",
            root.display()
        )
    })?;
    let m: Manifest = serde_json::from_slice(&text)
        .map_err(|e| anyhow!("backup manifest {} is not valid: {e}", path.display()))?;
    if m.format != FORMAT {
        bail!(
            "backup manifest {} has format {}; this server reads format {FORMAT}",
            path.display(),
            m.format
        );
    }
    Ok(m)
}

/// `rel` inside `root`, refusing absolute paths and `..` (a manifest is input, not trusted).
fn inside(root: &Path, rel: &str) -> anyhow::Result<PathBuf> {
    let p = Path::new(rel);
    if p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        bail!("backup manifest names a path outside the backup: `{rel}`");
    }
    Ok(root.join(p))
}

fn verify_file(root: &Path, e: &FileEntry) -> anyhow::Result<PathBuf> {
    let path = inside(root, &e.path)?;
    let (sha, size) =
        file_sha256(&path).with_context(|| format!("backup file {} is missing", e.path))?;
    if sha != e.sha256 || size != e.size {
        bail!(
            "backup file {} does not match the manifest (SHA-256 {sha}, {size} bytes; manifest: \
             {}, {} bytes): the backup is damaged or was altered",
            e.path,
            e.sha256,
            e.size
        );
    }
    Ok(path)
}

fn restore_from(
    settings: &Settings,
    backend: Backend,
    args: &RestoreArgs,
    root: &Path,
) -> anyhow::Result<()> {
    let m = read_manifest(root)?;
    let wanted = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    if m.backend != wanted {
        bail!(
            "this backup is of a {} database; restore it with {}",
            m.backend,
            if m.backend == "postgres" {
                "--database-url postgres://…"
            } else {
                "a SQLite data directory (no postgres --database-url)"
            }
        );
    }
    eprintln!(
        "restore: backup of {} ({} tables, {} photo files, schema {})",
        m.created_at,
        m.tables.len(),
        m.photos.len(),
        m.schema_version
    );

    // 1. Verify everything before installing anything.
    eprintln!("restore: verifying the database file");
    let db_file = verify_file(root, &m.database)?;
    let extra: Vec<(PathBuf, &FileEntry)> = m
        .files
        .iter()
        .map(|e| verify_file(root, e).map(|p| (p, e)))
        .collect::<anyhow::Result<_>>()?;
    if backend == Backend::Sqlite {
        let mut c = sqlite_open(&db_file)?;
        check_counts(&m, &read_snapshot_sqlite(&mut c, SQLITE_TABLES)?)?;
        check_sqlite_integrity(&mut c)?;
    }
    let local = m.photo_store == "local";
    let store: Option<std::sync::Arc<dyn PhotoStore>> = if local {
        None
    } else {
        if matches!(settings.photo_store, PhotoStoreSettings::Local) {
            bail!(
                "the photos of this backup stayed in {}; configure that store (photo_store = \"s3\") \
                 to restore",
                m.photo_store
            );
        }
        Some(crate::storage::open(settings)?)
    };
    let progress = Progress::new("photos verified", m.photos.len());
    for (i, p) in m.photos.iter().enumerate() {
        let variant = parse_variant(&p.variant)?;
        let bytes = match (&p.path, &store) {
            (Some(rel), _) => {
                let path = inside(root, rel)?;
                std::fs::read(&path).with_context(|| {
                    format!("photo {} ({}) is missing from the backup", p.id, p.variant)
                })?
            }
            (None, Some(store)) => store
                .get(p.id, variant)
                .with_context(|| format!("reading photo {} from {}", p.id, store.describe()))?
                .ok_or_else(|| {
                    anyhow!(
                        "photo {} ({}) is missing from {}",
                        p.id,
                        p.variant,
                        store.describe()
                    )
                })?,
            (None, None) => bail!("backup manifest: photo {} has no path", p.id),
        };
        let sha = sha256_hex(&bytes);
        if sha != p.sha256 {
            bail!(
                "photo {} ({}) does not match the manifest (SHA-256 {sha}, manifest {}): the \
                 backup is damaged or was altered",
                p.id,
                p.variant,
                p.sha256
            );
        }
        progress.tick(i + 1);
    }

    // 2. Install.
    let data_dir = &settings.data_dir;
    match backend {
        Backend::Sqlite => {
            let target = sqlite_path(&settings.database_url);
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let p = PathBuf::from(format!("{}{suffix}", target.display()));
                if p.exists() {
                    std::fs::remove_file(&p)
                        .with_context(|| format!("removing {}", p.display()))?;
                }
            }
            if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = PathBuf::from(format!("{}.restoring", target.display()));
            std::fs::copy(&db_file, &tmp)
                .with_context(|| format!("copying the database to {}", tmp.display()))?;
            sync_file(&tmp)?;
            std::fs::rename(&tmp, &target)?;
            eprintln!("restore: database written to {}", target.display());
        }
        Backend::Postgres => restore_postgres(settings, args, &m, &db_file)?,
    }
    if local {
        let photo_dir = settings.photo_dir();
        if args.force && photo_dir.exists() {
            std::fs::remove_dir_all(&photo_dir)
                .with_context(|| format!("removing {}", photo_dir.display()))?;
        }
        let local_store = crate::storage::LocalDirStore::new(&photo_dir)?;
        let progress = Progress::new("photos restored", m.photos.len());
        for (i, p) in m.photos.iter().enumerate() {
            let rel = p.path.as_deref().unwrap_or_default();
            let bytes = std::fs::read(inside(root, rel)?)?;
            if sha256_hex(&bytes) != p.sha256 {
                bail!("photo {} changed while it was restored", p.id);
            }
            local_store
                .put(p.id, parse_variant(&p.variant)?, &bytes)
                .with_context(|| format!("writing photo {}", p.id))?;
            progress.tick(i + 1);
        }
    }
    for (src, e) in extra {
        let dst = data_dir.join(&e.path);
        std::fs::copy(&src, &dst).with_context(|| format!("writing {}", dst.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let rows: i64 = m.tables.values().sum();
    println!(
        "restored {} rows in {} tables and {} photo files into {}; counts and hashes verified",
        rows,
        m.tables.len(),
        m.photos.len(),
        data_dir.display()
    );
    Ok(())
}

fn check_counts(m: &Manifest, s: &Snapshot) -> anyhow::Result<()> {
    if s.tables != m.tables {
        let mut diffs = Vec::new();
        for (t, n) in &m.tables {
            match s.tables.get(t) {
                Some(got) if got == n => {}
                Some(got) => diffs.push(format!("{t}: {got} rows, manifest {n}")),
                None => diffs.push(format!("{t}: missing")),
            }
        }
        for t in s.tables.keys().filter(|t| !m.tables.contains_key(*t)) {
            diffs.push(format!("{t}: not in the manifest"));
        }
        bail!(
            "the database does not match the manifest's row counts: {}",
            diffs.join("; ")
        );
    }
    if s.schema_version != m.schema_version {
        bail!(
            "the database has schema {}, the manifest says {}",
            s.schema_version,
            m.schema_version
        );
    }
    let photo_rows: std::collections::BTreeSet<String> = s.photo_ids.iter().cloned().collect();
    let listed: std::collections::BTreeSet<String> =
        m.photos.iter().map(|p| p.id.to_string()).collect();
    if photo_rows != listed {
        bail!(
            "the manifest's photos ({}) are not the database's ({})",
            listed.len(),
            photo_rows.len()
        );
    }
    Ok(())
}

fn check_sqlite_integrity(c: &mut diesel::SqliteConnection) -> anyhow::Result<()> {
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = Text)]
        integrity_check: String,
    }
    let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check").load(c)?;
    if rows.len() != 1 || rows[0].integrity_check != "ok" {
        bail!(
            "the database in the backup is damaged: {}",
            rows.iter()
                .map(|r| r.integrity_check.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    #[derive(QueryableByName)]
    struct Fk {
        #[diesel(sql_type = Text)]
        table: String,
    }
    let fk: Vec<Fk> = diesel::sql_query("PRAGMA foreign_key_check").load(c)?;
    if !fk.is_empty() {
        bail!(
            "the database in the backup has {} rows whose references are broken (first in {})",
            fk.len(),
            fk[0].table
        );
    }
    Ok(())
}

fn restore_postgres(
    settings: &Settings,
    args: &RestoreArgs,
    m: &Manifest,
    dump: &Path,
) -> anyhow::Result<()> {
    let mut conn = diesel::PgConnection::establish(&settings.database_url)
        .map_err(|e| anyhow!("cannot connect to PostgreSQL: {e}"))?;
    let existing: Vec<NameRow> = diesel::sql_query(PG_TABLES).load(&mut conn)?;
    if !existing.is_empty() && !args.force {
        bail!(
            "the PostgreSQL database is not empty ({} tables); restore into a new database \
             (createdb), or pass --force to replace it",
            existing.len()
        );
    }
    let Some(pg_restore) = pg_tool("pg_restore") else {
        bail!(
            "pg_restore is not installed (Debian: apt-get install postgresql-client). Restore by \
             hand with\n  pg_restore --no-owner --clean --if-exists --dbname '<database url>' {}",
            dump.display()
        );
    };
    eprintln!("restore: pg_restore into the database");
    let mut cmd = Command::new(&pg_restore);
    cmd.arg("--no-owner")
        .arg("--exit-on-error")
        .arg("--single-transaction");
    if !existing.is_empty() {
        cmd.arg("--clean").arg("--if-exists");
    }
    let out = cmd
        .arg("--dbname")
        .arg(&settings.database_url)
        .arg(dump)
        .output()
        .with_context(|| format!("running {}", pg_restore.display()))?;
    if !out.status.success() {
        bail!(
            "pg_restore failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    conn.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
    let s = read_snapshot_pg(&mut conn, PG_TABLES)?;
    conn.batch_execute("COMMIT")?;
    check_counts(m, &s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_stay_inside_the_backup() {
        let root = Path::new("/backups/b1");
        assert_eq!(
            inside(root, "photos/ab/x.jpg").unwrap(),
            root.join("photos/ab/x.jpg")
        );
        for bad in ["../etc/passwd", "/etc/passwd", "photos/../../x", "./x"] {
            let e = inside(root, bad).unwrap_err();
            assert!(e.to_string().contains("outside the backup"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_manifest_with_unknown_or_missing_fields_is_not_valid() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST), b"{\"format\": 1}").unwrap();
        let e = read_manifest(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is not valid"), "{e}");
        let e = read_manifest(&dir.path().join("nothing"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is it a doi178 backup"), "{e}");
    }
}
