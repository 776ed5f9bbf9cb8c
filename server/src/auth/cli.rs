//! `doi178-server add-user`: creates an account from the command line (the first administrator of
//! a real deployment, before anyone can call `POST /api/v1/users`). The password is read from
//! standard input, never from the command line (where `ps` and shell history would show it), and
//! must meet the same policy as through the API.

use std::io::BufRead;

use clap::Args;
use doi178_shared::{Role, Username};
use uuid::Uuid;

use super::{Actor, Jurisdiction};
use crate::db::Db;
use crate::error::ApiError;

#[derive(Args, Debug)]
pub struct AddUserArgs {
    /// Sign-in name (lower case letters, digits, `.`, `_`, `-`).
    #[arg(long)]
    pub username: String,
    #[arg(long)]
    pub display_name: String,
    /// `admin`, `provincial_staff`, `team_leader` or `inspector`.
    #[arg(long)]
    pub role: String,
    /// The account's administrative unit (required except for administrators).
    #[arg(long)]
    pub unit_id: Option<String>,
    #[arg(long)]
    pub agency_id: Option<String>,
}

fn problem(e: ApiError) -> anyhow::Error {
    match &e.field {
        Some(field) => anyhow::anyhow!("{field}: {}", e.detail),
        None => anyhow::anyhow!("{}", e.detail),
    }
}

/// Creates the account, reading its password as the first line of `input`.
pub fn add_user(db: &Db, args: &AddUserArgs, input: &mut impl BufRead) -> anyhow::Result<()> {
    let username = Username::parse(&args.username).map_err(|e| problem(e.into()))?;
    let display_name = doi178_shared::text::clean_text("display_name", &args.display_name, 120)
        .map_err(|e| problem(e.into()))?;
    let role: Role = args
        .role
        .parse()
        .map_err(|e: doi178_shared::DomainError| problem(e.into()))?;
    if role != Role::Admin && args.unit_id.is_none() {
        anyhow::bail!("unit_id: every account except an administrator's belongs to a unit");
    }
    let mut line = String::new();
    input.read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    super::password_policy::check(username.as_str(), password).map_err(problem)?;
    let hash = super::passwords::hash_password(password)?;
    // The command line acts with the whole country in view.
    let system = Actor {
        user_id: Uuid::nil(),
        username: "command-line".to_string(),
        display_name: "command line".to_string(),
        role: Role::Admin,
        unit_id: None,
        teams: Vec::new(),
        jurisdiction: Jurisdiction::All,
        team_units: Vec::new(),
        session: Uuid::nil(),
        must_change_password: false,
    };
    let account = crate::service::accounts::NewAccount {
        username: username.as_str().to_string(),
        display_name,
        password_hash: hash,
        role,
        unit_id: args.unit_id.clone(),
        agency_id: args.agency_id.clone(),
        must_change_password: false,
    };
    let row = db.write(|c| {
        crate::service::accounts::insert_account(
            c,
            &system,
            &crate::db::audit_chain::Who::system("add-user"),
            account,
        )
    });
    let row = row.map_err(problem)?;
    println!("created {} ({}), id {}", row.username, row.role, row.id);
    Ok(())
}
