//! strato's storage adapter: one diesel implementation of the domain's
//! repository ports for SQLite and PostgreSQL, chosen by the database URL's
//! scheme, over an r2d2 pool, with blocking work on the runtime's blocking pool.
//!
//! Nothing from diesel or r2d2 leaves this crate: errors are mapped to the
//! domain's `StoreError` at the boundary. It knows nothing of HTTP.

mod attributes;
mod connection;
mod entities;
mod error;
mod pools;
mod resources;
mod rows;
mod schema;
mod settings;
mod store;

pub use connection::Backend;
pub use error::SetupError;
pub use settings::DatabaseSettings;
pub use store::Store;
