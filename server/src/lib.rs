//! doi178 server: JSON API for phones and the dashboard, and the command line that runs it.

pub mod access;
pub mod actor;
pub mod auth;
pub mod backup;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod photos;
pub mod routes;
pub mod service;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
