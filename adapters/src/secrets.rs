//! Secrets at rest: IM owners' passwords and tokens kept only as argon2id
//! hashes ([`Argon2Hasher`]), and the specs of clouds that requests describe
//! (their settings hold credentials) sealed with XChaCha20-Poly1305
//! ([`Sealer`]) before they are stored.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use strato_domain::secret::SecretHasher;

/// What [`Argon2Hasher::hash`] answers when it cannot hash: no PHC string,
/// so that no secret ever verifies against it. (The port's `hash` cannot
/// fail; the cause is logged.)
const UNUSABLE_HASH: &str = "!unusable";

/// Hashes owners' secrets with argon2id into PHC strings
/// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), with a random 16-byte salt
/// each, on the blocking pool so that the async runtime never waits for it.
///
/// The default cost is OWASP's minimum for argon2id: 19 MiB of memory, 2
/// passes, 1 lane: some 20–40 ms per hash on one core of a current server,
/// while a GPU cracker pays for the memory too. A hash keeps its cost in
/// its PHC string: raising the cost later keeps older hashes verifiable.
#[derive(Clone)]
pub struct Argon2Hasher {
    argon2: Argon2<'static>,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Hasher").finish_non_exhaustive()
    }
}

/// An argon2 cost that is out of range.
#[derive(Debug, thiserror::Error)]
#[error("invalid argon2 cost: {0}")]
pub struct CostError(String);

impl Argon2Hasher {
    /// Memory of the default cost, in KiB (19 MiB).
    pub const MEMORY_KIB: u32 = 19 * 1024;
    /// Passes of the default cost.
    pub const ITERATIONS: u32 = 2;
    /// Lanes of the default cost.
    pub const PARALLELISM: u32 = 1;

    /// A hasher of the default cost (see the type).
    pub fn new() -> Self {
        Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, default_params()),
        }
    }

    /// A hasher of another cost: memory in KiB (at least 8 per lane),
    /// passes (at least 1) and lanes (at least 1). Tests use a tiny cost;
    /// hashes it makes still verify with any hasher.
    ///
    /// # Errors
    /// [`CostError`] when a number is out of argon2's range.
    pub fn with_cost(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
    ) -> Result<Self, CostError> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| CostError(e.to_string()))?;
        Ok(Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        })
    }

    /// The hash, now (blocking).
    fn hash_now(&self, secret: &str) -> Result<String, String> {
        let mut salt = [0u8; 16];
        OsRng.try_fill_bytes(&mut salt).map_err(|e| e.to_string())?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        self.argon2
            .hash_password(secret.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| e.to_string())
    }

    /// Whether the secret matches the hash, now (blocking). The hash's own
    /// algorithm, version and cost are used.
    fn verify_now(&self, secret: &str, hash: &str) -> bool {
        PasswordHash::new(hash).is_ok_and(|parsed| {
            self.argon2
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
    }
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        Self::new()
    }
}

/// The default cost, spelled out: argon2's own default may change with the
/// crate's version; this one is what [`Argon2Hasher`] documents.
fn default_params() -> Params {
    Params::new(
        Argon2Hasher::MEMORY_KIB,
        Argon2Hasher::ITERATIONS,
        Argon2Hasher::PARALLELISM,
        None,
    )
    .unwrap_or_default()
}

/// Runs blocking work on the blocking pool inside the caller's span.
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work)).await
}

#[async_trait]
impl SecretHasher for Argon2Hasher {
    async fn hash(&self, secret: &str) -> String {
        let (hasher, secret) = (self.clone(), secret.to_owned());
        match off_runtime(move || hasher.hash_now(&secret)).await {
            Ok(Ok(hash)) => hash,
            Ok(Err(cause)) => {
                tracing::error!(%cause, "cannot hash a secret");
                UNUSABLE_HASH.to_owned()
            }
            Err(cause) => {
                tracing::error!(%cause, "the hashing task did not finish");
                UNUSABLE_HASH.to_owned()
            }
        }
    }

    async fn verify(&self, secret: &str, hash: &str) -> bool {
        let (hasher, secret, hash) = (self.clone(), secret.to_owned(), hash.to_owned());
        off_runtime(move || hasher.verify_now(&secret, &hash))
            .await
            .unwrap_or(false)
    }
}

/// Why a key file could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file cannot be read.
    #[error("cannot read the key file {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no key.
    #[error("the key file {} holds neither 32 bytes nor 64 hexadecimal digits", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
    },
    /// A key given as text is not 64 hexadecimal digits (the text is not
    /// repeated: it is a secret).
    #[error("the key is not 64 hexadecimal digits")]
    NotHex,
    /// The file cannot be created (it may exist already) or written.
    #[error("cannot create the key file {}", .path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The system's random number generator failed.
    #[error("cannot draw a random key: {0}")]
    Random(String),
}

/// Why a value could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SealError {
    /// No key was configured, so described clouds cannot be stored or read.
    #[error("no key is configured to seal the clouds that requests describe")]
    NoKey,
    /// The system's random number generator failed.
    #[error("cannot draw a nonce: {0}")]
    Random(String),
    /// Encryption failed (a value too large).
    #[error("cannot seal a value")]
    Seal,
    /// The value is too short, was sealed with another key or for another
    /// place, or was altered.
    #[error("a sealed value cannot be opened (another key, or altered)")]
    Open,
}

/// Length of an XChaCha20-Poly1305 nonce.
const NONCE_LEN: usize = 24;

/// Authenticated encryption of small values with one 256-bit key:
/// XChaCha20-Poly1305 with a random 24-byte nonce per value (random nonces
/// of that size never repeat in practice), stored as nonce ‖ ciphertext ‖
/// tag. Associated data binds a value to where it is stored, so that a
/// sealed value copied elsewhere does not open.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer with this key.
    pub fn from_key_bytes(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// A sealer with a key written as 64 hexadecimal digits (surrounding
    /// whitespace ignored), as a setting gives it.
    ///
    /// # Errors
    /// [`KeyError::NotHex`] for any other text.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let mut key = [0u8; 32];
        let text = text.trim_ascii().as_bytes();
        if text.len() != 64 || hex::decode_to_slice(text, &mut key).is_err() {
            return Err(KeyError::NotHex);
        }
        Ok(Self::from_key_bytes(&key))
    }

    /// A sealer with the key a file holds: 32 raw bytes, or 64 hexadecimal
    /// digits (surrounding whitespace, such as a final newline, ignored).
    ///
    /// # Errors
    /// [`KeyError::Read`] when it cannot be read, [`KeyError::Malformed`]
    /// when it holds no key.
    pub fn from_key_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let key = key_of(&bytes).ok_or_else(|| KeyError::Malformed {
            path: path.to_owned(),
        })?;
        Ok(Self::from_key_bytes(&key))
    }

    /// Makes a new random key, writes it to a new file (64 hexadecimal
    /// digits and a newline, readable by its owner only: mode 0600) and
    /// returns a sealer with it. An existing file is never overwritten.
    ///
    /// # Errors
    /// [`KeyError::Create`] when the file exists or cannot be written,
    /// [`KeyError::Random`] when no random key can be drawn.
    pub fn create_key_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let mut key = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut key)
            .map_err(|e| KeyError::Random(e.to_string()))?;
        let failed = |source| KeyError::Create {
            path: path.to_owned(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(failed)?;
        let written = file
            .write_all(format!("{}\n", hex::encode(key)).as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(source) = written {
            drop(file);
            // A half-written key would be read as no key: leave none.
            let _ = std::fs::remove_file(path);
            return Err(failed(source));
        }
        Ok(Self::from_key_bytes(&key))
    }

    /// The value sealed for `place`: nonce ‖ ciphertext ‖ tag.
    pub(crate) fn seal(&self, value: &[u8], place: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|e| SealError::Random(e.to_string()))?;
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: value,
                    aad: place,
                },
            )
            .map_err(|_| SealError::Seal)?;
        let mut stored = Vec::with_capacity(NONCE_LEN + sealed.len());
        stored.extend_from_slice(&nonce);
        stored.extend_from_slice(&sealed);
        Ok(stored)
    }

    /// The value [`Sealer::seal`] sealed for `place`.
    pub(crate) fn open(&self, stored: &[u8], place: &[u8]) -> Result<Vec<u8>, SealError> {
        if stored.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, sealed) = stored.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: place,
                },
            )
            .map_err(|_| SealError::Open)
    }
}

/// The key a key file's bytes hold: 32 raw bytes, or 64 hexadecimal digits
/// with optional surrounding whitespace.
fn key_of(bytes: &[u8]) -> Option<[u8; 32]> {
    if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
        return Some(raw);
    }
    let text = bytes.trim_ascii();
    let mut key = [0u8; 32];
    (text.len() == 64 && hex::decode_to_slice(text, &mut key).is_ok()).then_some(key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "strato-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        path
    }

    #[tokio::test]
    async fn hashes_are_salted_phc_strings_that_verify_only_their_secret() {
        let hasher = Argon2Hasher::with_cost(64, 1, 1).unwrap();
        let hash = hasher.hash("pass word").await;
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert_ne!(hasher.hash("pass word").await, hash, "salted");
        assert!(hasher.verify("pass word", &hash).await);
        assert!(!hasher.verify("pass words", &hash).await);
        assert!(!hasher.verify("", "not a hash").await);
        assert!(!hasher.verify("", UNUSABLE_HASH).await);
        // The cost travels with the hash.
        assert!(Argon2Hasher::new().verify("pass word", &hash).await);
    }

    #[tokio::test]
    async fn the_default_cost_is_owasps_minimum() {
        let hash = Argon2Hasher::new().hash("s").await;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_place() {
        let sealer = Sealer::from_key_bytes(&[7; 32]);
        let sealed = sealer.seal(b"secret", b"place").unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + 6 + 16);
        assert_ne!(
            sealer.seal(b"secret", b"place").unwrap(),
            sealed,
            "nonces differ"
        );
        assert_eq!(sealer.open(&sealed, b"place").unwrap(), b"secret");
        assert!(sealer.open(&sealed, b"elsewhere").is_err());
        assert!(
            Sealer::from_key_bytes(&[8; 32])
                .open(&sealed, b"place")
                .is_err()
        );
        let mut altered = sealed.clone();
        altered[NONCE_LEN] ^= 1;
        assert!(sealer.open(&altered, b"place").is_err());
        assert!(sealer.open(&sealed[..10], b"place").is_err());
    }

    #[test]
    fn key_files_hold_raw_or_hexadecimal_keys_and_new_ones_are_private() {
        let path = temp_path("key");
        let created = Sealer::create_key_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), 65, "{text:?}");
        let sealed = created.seal(b"v", b"p").unwrap();
        let read = Sealer::from_key_file(&path).unwrap();
        assert_eq!(read.open(&sealed, b"p").unwrap(), b"v");
        assert!(
            matches!(Sealer::create_key_file(&path), Err(KeyError::Create { .. })),
            "never overwritten"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

        std::fs::write(&path, [9u8; 32]).unwrap();
        let raw = Sealer::from_key_file(&path).unwrap();
        let sealed = Sealer::from_key_bytes(&[9; 32]).seal(b"v", b"p").unwrap();
        assert_eq!(raw.open(&sealed, b"p").unwrap(), b"v");

        let hex_key = "09".repeat(32);
        let from_text = Sealer::from_hex(&format!(" {hex_key}\n")).unwrap();
        assert_eq!(from_text.open(&sealed, b"p").unwrap(), b"v");
        for bad in ["", "09", &"g".repeat(64), &"0".repeat(66)] {
            assert!(
                matches!(Sealer::from_hex(bad), Err(KeyError::NotHex)),
                "{bad}"
            );
        }

        for bad in [&b"short"[..], &[b'g'; 64][..], &[0u8; 33][..]] {
            std::fs::write(&path, bad).unwrap();
            assert!(matches!(
                Sealer::from_key_file(&path),
                Err(KeyError::Malformed { .. })
            ));
        }
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            Sealer::from_key_file(&path),
            Err(KeyError::Read { .. })
        ));
    }
}
