//! Where the fingerprint key comes from. Fingerprints are HMAC-SHA-256 of rule and secret under this key
//! ([`FingerprintKey`]): stable across runs and machines that share the key, and useless for testing
//! guesses offline to whoever holds only a report or a baseline.
//!
//! In order: `--fingerprint-key-file FILE`; `PKHOUND_FINGERPRINT_KEY` (the key itself, for CI secrets);
//! the per-user key file `$XDG_CONFIG_HOME/pkhound/fingerprint-key` (else `~/.config/…`), created with 32
//! random bytes on first use. A key is at least 16 characters; surrounding whitespace is trimmed.

use std::{
    fs,
    io::{self, Read, Write},
    path::{Path, PathBuf},
};

use thiserror::Error;

use crate::finding::FingerprintKey;
use crate::userfile;

/// The environment variable holding the key itself.
pub const ENV: &str = "PKHOUND_FINGERPRINT_KEY";
/// Shortest key accepted, in bytes.
const MIN_LEN: usize = 16;

#[derive(Debug, Error)]
pub enum KeyError {
    #[error("fingerprint key file {file}: {message}")]
    File { file: String, message: String },
    #[error("{ENV}: {0}")]
    Env(String),
}

/// Where the key in use came from, for messages and reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// `--fingerprint-key-file`.
    File(PathBuf),
    /// `PKHOUND_FINGERPRINT_KEY`.
    Env,
    /// The per-user key file; `created` on this run.
    User { path: PathBuf, created: bool },
    /// No key file could be read or made (no home directory, read-only): a random key for this run only.
    Ephemeral { reason: String },
}

impl KeySource {
    pub fn describe(&self) -> String {
        match self {
            KeySource::File(p) => format!("--fingerprint-key-file {}", p.display()),
            KeySource::Env => ENV.to_string(),
            KeySource::User { path, .. } => path.display().to_string(),
            KeySource::Ephemeral { .. } => "a random key for this run only".to_string(),
        }
    }
}

/// The key for this run, and where it came from.
pub fn resolve(file: Option<&Path>) -> Result<(FingerprintKey, KeySource), KeyError> {
    if let Some(path) = file {
        let err = |message: String| KeyError::File {
            file: path.display().to_string(),
            message,
        };
        let bytes = userfile::read(path).map_err(|e| err(userfile::message(&e)))?;
        let key = checked(&bytes).map_err(err)?;
        return Ok((FingerprintKey::new(key), KeySource::File(path.to_path_buf())));
    }
    // Empty counts as unset: a CI secret that does not exist expands to "".
    if let Some(v) = std::env::var_os(ENV).filter(|v| !v.is_empty()) {
        let bytes = v.into_encoded_bytes();
        let key = checked(&bytes).map_err(KeyError::Env)?;
        return Ok((FingerprintKey::new(key), KeySource::Env));
    }
    let Some(path) = user_key_path() else {
        return Ok(ephemeral(
            "no home directory ($XDG_CONFIG_HOME and $HOME are unset)".into(),
        ));
    };
    match userfile::read(&path) {
        Ok(bytes) => {
            let key = checked(&bytes).map_err(|message| KeyError::File {
                file: path.display().to_string(),
                message,
            })?;
            Ok((FingerprintKey::new(key), KeySource::User { path, created: false }))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => match create(&path) {
            Ok(key) => Ok((FingerprintKey::new(&key), KeySource::User { path, created: true })),
            Err(e) => Ok(ephemeral(format!(
                "cannot create {}: {}",
                path.display(),
                userfile::message(&e)
            ))),
        },
        Err(e) => Err(KeyError::File {
            file: path.display().to_string(),
            message: userfile::message(&e),
        }),
    }
}

fn ephemeral(reason: String) -> (FingerprintKey, KeySource) {
    (FingerprintKey::new(&random_key()), KeySource::Ephemeral { reason })
}

/// The trimmed key, if long enough.
fn checked(bytes: &[u8]) -> Result<&[u8], String> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    let key = &bytes[start..end];
    if key.len() < MIN_LEN {
        return Err(format!(
            "the key is {} bytes; use at least {MIN_LEN} (e.g. `openssl rand -hex 32`)",
            key.len()
        ));
    }
    Ok(key)
}

/// `$XDG_CONFIG_HOME/pkhound/fingerprint-key`, else `$HOME/.config/pkhound/fingerprint-key`.
pub fn user_key_path() -> Option<PathBuf> {
    let nonempty = |v: &str| std::env::var_os(v).filter(|s| !s.is_empty()).map(PathBuf::from);
    let base = nonempty("XDG_CONFIG_HOME")
        .or_else(|| nonempty("HOME").map(|h| h.join(".config")))
        .or_else(|| nonempty("APPDATA"))?;
    Some(base.join("pkhound").join("fingerprint-key"))
}

/// Writes a new random key (hex, owner-only) at `path`; if another process made one first, uses that.
fn create(path: &Path) -> io::Result<Vec<u8>> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let key = hex(&random_key());
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            f.write_all(key.as_bytes())?;
            f.write_all(b"\n")?;
            Ok(key.into_bytes())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let bytes = userfile::read(path)?;
            checked(&bytes)
                .map(<[u8]>::to_vec)
                .map_err(|m| io::Error::new(io::ErrorKind::InvalidData, m))
        }
        Err(e) => Err(e),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes: from the OS (`/dev/urandom`), else from the OS-seeded keys of std's `RandomState`.
fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    if fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .is_ok()
    {
        return key;
    }
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    for (i, chunk) in key.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        h.write_u128(nanos);
        h.write_u32(std::process::id());
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_trimmed_and_long_enough() {
        assert_eq!(checked(b"  0123456789abcdef\n").unwrap(), b"0123456789abcdef");
        assert!(checked(b"short\n").is_err());
        assert!(checked(b"   ").is_err());
    }

    #[test]
    fn random_keys_differ() {
        assert_ne!(random_key(), random_key());
    }
}
