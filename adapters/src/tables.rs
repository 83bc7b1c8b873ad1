//! Table-level SQL: one module per table, each a set of functions that take a
//! connection and run inside the caller's transaction. They know the schema
//! and the row types, never a port and never one another; the repositories
//! compose them.

pub(crate) mod allocations;
pub(crate) mod attributes;
pub(crate) mod entities;
pub(crate) mod infrastructures;
pub(crate) mod jobs;
pub(crate) mod pool_members;
