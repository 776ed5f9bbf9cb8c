//! `doi178-server audit`: walk the audit chain and compare the live rows (`verify`), or list the
//! photo links an operator must review (`photo-links`). Read only.

use crate::db::audit_chain::verify;
use crate::db::Db;

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Walk the hash chain (exit 0: intact; non-zero: names the first bad entry), then compare
    /// every entity's live row with the after-digest of its latest entry.
    Verify(VerifyArgs),
    /// List every visit that lists a photo its team does not own (uploaded by someone who is
    /// neither a member of the visit's team nor one of its authors), for an operator to review.
    /// Such links were refused from 2026-12-07 on and never make a photo readable; older ones
    /// may exist. Exit 0: none; non-zero: some are listed. Read only.
    PhotoLinks,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Check only the chain, not the live rows (faster; needs no memory per entity).
    #[arg(long)]
    pub chain_only: bool,
    /// Entries read per query.
    #[arg(long, default_value_t = 10_000)]
    pub page_size: i64,
}

/// `doi178-server audit verify`: read only, does not migrate.
pub fn run(settings: &crate::config::Settings, args: &AuditArgs) -> anyhow::Result<()> {
    let url = &settings.database_url;
    if crate::db::Backend::from_url(url) == crate::db::Backend::Sqlite {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        if !std::path::Path::new(path).is_file() {
            anyhow::bail!("no database at {path} (set --data-dir or --database-url)");
        }
    }
    let db = Db::open(url, 1)?;
    let v = match &args.command {
        AuditCommand::Verify(v) => v,
        AuditCommand::PhotoLinks => return photo_links(&db),
    };
    match verify(&db, v.chain_only, v.page_size) {
        Ok(report) => {
            println!("{report}");
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

/// `doi178-server audit photo-links`: prints each visit listing a photo its team does not own,
/// with the names an operator needs to review it.
fn photo_links(db: &Db) -> anyhow::Result<()> {
    let lines = db.read(|c| -> anyhow::Result<Vec<String>> {
        let mut names = std::collections::HashMap::new();
        let mut name = |c: &mut crate::db::AnyConnection, id: &str| -> anyhow::Result<String> {
            if let Some(n) = names.get(id) {
                return Ok(String::clone(n));
            }
            let n = match uuid::Uuid::parse_str(id) {
                Ok(u) => crate::db::users::find_by_id(c, u)?
                    .map(|u| u.username)
                    .unwrap_or_else(|| id.to_string()),
                Err(_) => id.to_string(),
            };
            names.insert(id.to_string(), n.clone());
            Ok(n)
        };
        let mut out = Vec::new();
        for link in crate::db::photos::foreign_links(c)? {
            let team = crate::db::teams::get_unscoped(c, &link.visit_team_id)?
                .map(|t| format!("{} ({})", t.name, t.unit_id))
                .unwrap_or_else(|| link.visit_team_id.clone());
            out.push(format!(
                "visit {} of team {} lists photo {} uploaded by {}",
                link.visit_id,
                team,
                link.photo_id,
                name(c, &link.uploaded_by)?
            ));
        }
        Ok(out)
    })?;
    if lines.is_empty() {
        println!("no visit lists a photo of another team");
        return Ok(());
    }
    for line in &lines {
        println!("{line}");
    }
    anyhow::bail!(
        "{} visit photo link(s) cross teams: review each visit; the photos stay readable only \
         to the uploader and to whoever may read a visit of the uploader's team",
        lines.len()
    )
}
