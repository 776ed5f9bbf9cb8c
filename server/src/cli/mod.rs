//! The command line: `serve` (default), `migrate`, `import`, `demo`, `bench`, `audit verify`,
//! `backup`, `restore`, `add-user`, `units`.

mod audit;
mod import;
mod units;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{FileSettings, Settings, DEFAULT_PORT};

#[derive(Parser, Debug)]
#[command(
    name = "doi178-server",
    version,
    about = "doi178: planning, running and proving the inspections of Đội 178 teams"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// TOML config file (keys: port, bind, data_dir, database_url, jwt_secret, workers, ...).
    #[arg(long, global = true, env = "DOI178_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where the SQLite database, photos and the token secret live [default: ./data].
    #[arg(long, global = true, env = "DOI178_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` for PostgreSQL, or a SQLite file path [default: <data-dir>/doi178.sqlite].
    #[arg(long, global = true, env = "DOI178_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server (the default command).
    Serve(ServeArgs),
    /// Apply pending database migrations and the shipped reference data, and exit.
    Migrate,
    /// Import establishments from a CSV or XLSX list (e.g. from the business-registration office).
    Import(import::ImportArgs),
    /// Generate demo data into the database (use `--establishments` / `--visits` to scale it).
    Demo(crate::demo::DemoArgs),
    /// Time the coverage, series and planner reads on the database and compare with the
    /// straightforward GROUP BY over the visits (read only; migrates first).
    Bench(crate::bench::BenchArgs),
    /// The audit log: `audit verify` checks its hash chain and the live rows against it.
    Audit(audit::AuditArgs),
    /// Back up the database (a consistent snapshot, even while the server runs) and every photo,
    /// with a manifest of row counts and photo hashes, into a new directory or a `.tar` file.
    Backup(crate::backup::BackupArgs),
    /// Restore a backup into an empty data directory (or PostgreSQL database), after checking
    /// every hash and row count of its manifest.
    Restore(crate::backup::RestoreArgs),
    /// Create an account (e.g. the first administrator); its password is read from standard input
    /// and must meet the password policy.
    AddUser(crate::auth::cli::AddUserArgs),
    /// Administrative units: load a later official list or lineage from former units.
    Units(units::UnitsArgs),
    /// Print every route with its access rule as JSON (the authorisation tests read it).
    Routes,
}

#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// TCP port; 0 picks a free one [default: 8178].
    #[arg(long, env = "DOI178_PORT")]
    pub port: Option<u16>,
    /// Address to listen on [default: 127.0.0.1; use 0.0.0.0 behind a reverse proxy].
    #[arg(long, env = "DOI178_BIND")]
    pub bind: Option<IpAddr>,
    /// Create and load the demo data on first start (demo accounts exist only in demo mode).
    #[arg(long, env = "DOI178_DEMO")]
    pub demo: bool,
    /// HTTP worker threads [default: number of cores].
    #[arg(long, env = "DOI178_WORKERS")]
    pub workers: Option<usize>,
    /// Base map tiles for the dashboard map, e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`
    /// [default: none, the map shows only the shipped boundaries and works offline].
    #[arg(long, env = "DOI178_MAP_TILES_URL")]
    pub map_tiles_url: Option<String>,
}

pub fn main() -> ExitCode {
    crate::telemetry::init_logging();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn resolve(common: &CommonArgs, serve: Option<&ServeArgs>) -> anyhow::Result<Settings> {
    let file = FileSettings::load(common.config.as_deref())?;
    let data_dir = common
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("data"));
    let database_url = common
        .database_url
        .clone()
        .or(file.database_url)
        .unwrap_or_else(|| Settings::default_database_url(&data_dir));
    let jwt_secret = std::env::var("DOI178_JWT_SECRET").ok().or(file.jwt_secret);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    Ok(Settings {
        port: serve
            .and_then(|s| s.port)
            .or(file.port)
            .unwrap_or(DEFAULT_PORT),
        bind: serve
            .and_then(|s| s.bind)
            .or(file.bind)
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        data_dir,
        database_url,
        jwt_secret,
        workers: serve
            .and_then(|s| s.workers)
            .or(file.workers)
            .unwrap_or(cores)
            .max(1),
        db_max_connections: file.db_max_connections.unwrap_or(16),
        demo: serve.is_some_and(|s| s.demo),
        public_url: file.public_url,
        map_tiles_url: serve
            .and_then(|s| s.map_tiles_url.clone())
            .or(file.map_tiles_url)
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty()),
        photo_store: crate::config::PhotoStoreSettings::resolve(file.photo_store, file.s3)?,
        auth: crate::config::auth::AuthSettings::resolve(file.auth)?,
    })
}

/// What `serve` prints on a database without accounts: how to create the first administrator,
/// with the same data directory or database options this server was started with.
fn first_run_help(common: &CommonArgs) -> String {
    let mut place = String::new();
    if let Some(config) = &common.config {
        place.push_str(&format!(" --config {}", config.display()));
    }
    if let Some(dir) = &common.data_dir {
        place.push_str(&format!(" --data-dir {}", dir.display()));
    }
    if common.database_url.is_some() {
        place.push_str(" --database-url <the same database URL>");
    }
    format!(
        "\n  No account exists yet. Create the first administrator (in another terminal; the\n  \
         password is read from standard input, at least {min} characters):\n\n    \
         doi178-server{place} add-user --username admin --role admin \\\n      \
         --display-name \"Quản trị hệ thống\"\n\n  \
         then sign in at the address above.\n  \
         To try doi178 with demo data instead, start an empty data directory with `serve --demo`.\n",
        min = crate::auth::password_policy::MIN_CHARS,
    )
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    match command {
        Command::Serve(args) => {
            let settings = resolve(&cli.common, Some(&args))?;
            let state = crate::startup::build_state(&settings)?;
            let demo_loaded = if settings.demo {
                crate::demo::ensure_loaded(
                    &state.db,
                    &*state.photos,
                    &crate::demo::DemoArgs::default(),
                )?
            } else {
                false
            };
            let listener = TcpListener::bind(SocketAddr::new(settings.bind, settings.port))
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot listen on {}:{}: {e} (is another server running? try --port)",
                        settings.bind,
                        settings.port
                    )
                })?;
            let addr = listener.local_addr()?;
            let host = if addr.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                addr.ip().to_string()
            };
            println!("doi178-server listening on http://{host}:{}", addr.port());
            println!("  API docs: http://{host}:{}/api/docs/", addr.port());
            if demo_loaded {
                println!(
                    "  demo accounts (password: {}):",
                    crate::demo::DEMO_PASSWORD
                );
                for (user, what) in crate::demo::DEMO_ACCOUNTS {
                    println!("    {user:<20} {what}");
                }
            } else if crate::service::accounts::count(&state.db)? == 0 {
                print!("{}", first_run_help(&cli.common));
            }
            actix_web::rt::System::new().block_on(crate::startup::serve(state, listener))
        }
        Command::Migrate => {
            let settings = resolve(&cli.common, None)?;
            let db = crate::db::Db::open(&settings.database_url, 2)?;
            let applied = db.migrate()?;
            if applied.is_empty() {
                println!("database is up to date");
            } else {
                for m in applied {
                    println!("applied {m}");
                }
            }
            for set in crate::service::reference::ensure(&db)? {
                if !set.current {
                    println!(
                        "loaded reference data {} {} ({} added, {} updated)",
                        set.name, set.version, set.applied.added, set.applied.updated
                    );
                }
            }
            Ok(())
        }
        Command::Import(args) => {
            let settings = resolve(&cli.common, None)?;
            let db = crate::db::Db::open(&settings.database_url, 2)?;
            db.migrate()?;
            crate::service::reference::ensure(&db)?;
            import::run(&db, &args)
        }
        Command::Demo(args) => {
            let settings = resolve(&cli.common, None)?;
            let db = crate::db::Db::open(&settings.database_url, 4)?;
            db.migrate()?;
            let photos = crate::storage::open(&settings)?;
            crate::demo::ensure_loaded(&db, &*photos, &args).map(|_| ())
        }
        Command::Bench(args) => {
            let settings = resolve(&cli.common, None)?;
            let db = crate::db::Db::open(&settings.database_url, 2)?;
            db.migrate()?;
            crate::bench::run(&db, &args)
        }
        Command::Audit(args) => {
            let settings = resolve(&cli.common, None)?;
            audit::run(&settings, &args)
        }
        Command::Backup(args) => crate::backup::backup(&resolve(&cli.common, None)?, &args),
        Command::Restore(args) => crate::backup::restore(&resolve(&cli.common, None)?, &args),
        Command::AddUser(args) => {
            let settings = resolve(&cli.common, None)?;
            let db = crate::db::Db::open(&settings.database_url, 2)?;
            db.migrate()?;
            crate::service::reference::ensure(&db)?;
            crate::auth::cli::add_user(&db, &args, &mut std::io::stdin().lock())
        }
        Command::Units(args) => {
            let settings = resolve(&cli.common, None)?;
            let db = crate::db::Db::open(&settings.database_url, 2)?;
            db.migrate()?;
            crate::service::reference::ensure(&db)?;
            units::run(&db, &args)
        }
        Command::Routes => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::startup::rules::table())?
            );
            Ok(())
        }
    }
}
