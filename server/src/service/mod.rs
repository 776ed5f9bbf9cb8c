//! The operations the API, the dashboard, the demo and the command line share, with typed inputs
//! and outputs, among them the establishment importer and the spreadsheet writers: `routes/` and
//! `dashboard/` parse the request, call these and render. They run in the caller's transaction (or open their own, for a visit's group commit) and check
//! everything an operation must check whoever calls it: roles, jurisdiction, references.

pub mod account_admin;
pub mod accounts;
pub mod assignments;
pub mod coverage;
pub mod establishments;
pub mod export;
pub mod import;
pub mod page;
pub mod photos;
pub mod plan_report;
pub mod planner;
pub mod reference;
pub mod reports;
pub mod tips;
pub mod visits;
