//! Authentication (passwords, tokens) and the authorisation layer (`Actor`).

pub mod actor;
pub mod cli;
pub mod password_policy;
pub mod passwords;
pub use crate::config::auth as settings;
pub mod throttle;
pub mod tokens;

pub use actor::{check_password_fresh, Actor, Jurisdiction, Membership};
