//! strato's end-to-end suite: every test boots the real server on a fresh
//! database, once on SQLite and once on PostgreSQL.

// Tests unwrap: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod process;

mod bad_input;
mod clouds;
mod concurrency;
mod defects;
mod infrastructures;
mod inventory_attribute;
mod inventory_entity;
mod inventory_resource;
mod inventory_server;
mod jobs;
mod openapi;
mod operations;
mod operations_cli;
mod postgres_tls;
mod readme;
mod storage_contract;
mod storage_reads;
mod tidy;
mod write_path;
