//! strato's storage adapter: one diesel implementation of the domain's
//! storage ports (the repositories, the job queue, the health check) for
//! SQLite and PostgreSQL, chosen by the database URL's scheme, over an r2d2
//! pool, with blocking work on the runtime's blocking pool (and, on SQLite,
//! writes on one writer thread that commits many requests' work at once).
//!
//! Nothing from diesel or r2d2 leaves this crate: errors are mapped to the
//! domain's `StoreError` at the boundary. It knows nothing of HTTP, of
//! clouds, or of how the ports are wired together.
//!
//! `tables` holds the SQL, one module per table; `repositories` implements
//! the ports on [`Store`], one module per port, by composing it. `secrets`
//! keeps secrets at rest: IM owners' passwords and tokens as argon2id hashes
//! ([`Argon2Hasher`], the domain's `SecretHasher`), and the clouds requests
//! describe sealed with XChaCha20-Poly1305 ([`Sealer`], handed to the store).

mod checkpoint;
mod connection;
mod error;
mod repositories;
mod rows;
mod schema;
mod secrets;
mod settings;
mod store;
mod tables;
mod writer;

pub use connection::Backend;
pub use error::SetupError;
pub use secrets::{Argon2Hasher, CostError, KeyError, Sealer};
pub use settings::DatabaseSettings;
pub use store::{PoolState, Store};
