//! The command line: `serve` (default), `migrate`, `import`, `demo`, `bench`, `audit verify`,
//! `backup`, `restore`.

mod audit;
mod import;

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
    /// Apply pending database migrations and exit.
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

fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    match command {
        Command::Serve(args) => {
            let settings = resolve(&cli.common, Some(&args))?;
            let state = crate::startup::build_state(&settings)?;
            if settings.demo {
                crate::demo::ensure_loaded(
                    &state.db,
                    &*state.photos,
                    &crate::demo::DemoArgs::default(),
                )?;
            }
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
            if settings.demo {
                println!(
                    "  demo accounts (password: {}):",
                    crate::demo::DEMO_PASSWORD
                );
                for (user, what) in crate::demo::DEMO_ACCOUNTS {
                    println!("    {user:<20} {what}");
                }
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
            Ok(())
        }
        Command::Import(args) => {
            let settings = resolve(&cli.common, None)?;
            let db = crate::db::Db::open(&settings.database_url, 2)?;
            db.migrate()?;
            import::run(&db, &args)
        }
        Command::Demo(args) => {
            let settings = resolve(&cli.common, None)?;
            let db = crate::db::Db::open(&settings.database_url, 4)?;
            db.migrate()?;
            let photos = crate::storage::open(&settings)?;
            crate::demo::ensure_loaded(&db, &*photos, &args)
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
            crate::auth::cli::add_user(&db, &args, &mut std::io::stdin().lock())
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
