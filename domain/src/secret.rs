//! Secrets kept only as salted hashes (IM owners' passwords and tokens).

use async_trait::async_trait;

/// Hashes secrets with a salted, deliberately slow password hash, and
/// checks a secret against a stored hash. Implementations run the work off
/// the async runtime.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SecretHasher: Send + Sync {
    /// A salted hash of the secret, as a self-describing (PHC) string.
    async fn hash(&self, secret: &str) -> String;

    /// Whether the secret is the one `hash` was made from (false for a hash
    /// that cannot be read).
    async fn verify(&self, secret: &str, hash: &str) -> bool;
}
