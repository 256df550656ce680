//! Baselines: adopt pkhound on a repository with known, accepted findings, and fail only on new ones.
//!
//! A baseline records findings by fingerprint (a keyed hash of rule id and secret, never the secret), so
//! it survives lines moving and files being renamed: a secret already in the baseline is known wherever
//! it sits. Path and line are written for the humans who review the file; matching ignores them.
//!
//! Format 2 records the id of the fingerprint key it was made with (`fingerprint_key`): a scan under
//! another key could match nothing, so a mismatch is an error that says which key to use, never a silent
//! "every finding is new". Format 1 (unkeyed SHA-256 fingerprints) is still read, with a warning to
//! re-record it: its fingerprints can be brute-forced.

use std::{collections::BTreeSet, fs, path::Path};

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[cfg(doc)]
use crate::finding::Secret;
use crate::finding::{Finding, FingerprintKey};
use crate::{fingerprint_key, userfile};

/// The format version written in every baseline.
const VERSION: u32 = 2;
/// The unkeyed format, still read.
const LEGACY_VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum BaselineError {
    #[error("baseline {file}: {message}")]
    Read { file: String, message: String },
    #[error("baseline {file}: {message}")]
    Write { file: String, message: String },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    pkhound_baseline: u32,
    /// The id of the fingerprint key (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fingerprint_key: Option<String>,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
struct Entry {
    fingerprint: String,
    rule_id: String,
    path: String,
    line: usize,
}

/// The fingerprints of accepted findings.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    fingerprints: BTreeSet<String>,
    /// A format-1 baseline: fingerprints are unkeyed SHA-256, compared with [`Secret::legacy_fingerprint`].
    legacy: bool,
}

impl Baseline {
    /// Reads a baseline written by `--baseline-out`; `key_id` is the id of the fingerprint key in use.
    pub fn load(path: &Path, key_id: &str) -> Result<Baseline, BaselineError> {
        let file = path.display().to_string();
        let bytes = userfile::read(path).map_err(|e| BaselineError::Read {
            file: file.clone(),
            message: format!("cannot read: {}", userfile::message(&e)),
        })?;
        Baseline::parse(&file, &bytes, key_id)
    }

    /// Parses a baseline's bytes; `file` names it in errors.
    pub fn parse(file: &str, bytes: &[u8], key_id: &str) -> Result<Baseline, BaselineError> {
        let read = |message: String| BaselineError::Read {
            file: file.to_string(),
            message,
        };
        let parsed: BaselineFile =
            serde_json::from_slice(bytes).map_err(|e| read(format!("not a pkhound baseline: {e}")))?;
        let legacy = match parsed.pkhound_baseline {
            VERSION => {
                let Some(made_with) = parsed.fingerprint_key.as_deref() else {
                    return Err(read(
                        "format 2 needs `fingerprint_key` (the id of the key it was made with)".into(),
                    ));
                };
                if made_with != key_id {
                    return Err(read(format!(
                        "made with fingerprint key {made_with}, but this scan uses key {key_id}: its fingerprints \
                         cannot match. Use the key it was made with (set {} or --fingerprint-key-file; see \
                         docs/config.md, \"Fingerprints and their key\"), or re-record it with --baseline-out",
                        fingerprint_key::ENV
                    )));
                }
                false
            }
            LEGACY_VERSION => true,
            other => {
                return Err(read(format!(
                    "format version {other} is not supported (this pkhound writes {VERSION})"
                )))
            }
        };
        let fingerprints = parsed.findings.into_iter().map(|e| e.fingerprint).collect();
        Ok(Baseline { fingerprints, legacy })
    }

    /// True for a format-1 baseline (unkeyed fingerprints): it works, but should be re-recorded.
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }

    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// Drops findings whose fingerprint is in the baseline; returns how many.
    pub fn apply(&self, findings: &mut Vec<Finding>) -> usize {
        let before = findings.len();
        findings.retain(|f| {
            let fp = if self.legacy {
                f.secret.legacy_fingerprint(&f.rule.id)
            } else {
                f.fingerprint.clone()
            };
            !self.fingerprints.contains(fp.as_str())
        });
        before - findings.len()
    }
}

/// The baseline file for `findings`: sorted, one entry per (fingerprint, path), no secrets.
pub fn render(findings: &[Finding]) -> Vec<u8> {
    let mut entries: Vec<Entry> = findings
        .iter()
        .map(|f| Entry {
            fingerprint: f.fingerprint.as_str().to_string(),
            rule_id: f.rule.id.as_str().to_string(),
            path: f.path.clone(),
            line: f.line,
        })
        .collect();
    entries.sort();
    entries.dedup_by(|a, b| a.fingerprint == b.fingerprint && a.path == b.path);
    let file = BaselineFile {
        pkhound_baseline: VERSION,
        fingerprint_key: Some(FingerprintKey::current().id().to_string()),
        findings: entries,
    };
    let mut out = serde_json::to_vec_pretty(&file).expect("a baseline of strings and numbers serializes");
    out.push(b'\n');
    out
}

/// Writes the baseline for `findings` to `path`.
pub fn write(findings: &[Finding], path: &Path) -> Result<(), BaselineError> {
    fs::write(path, render(findings)).map_err(|e| BaselineError::Write {
        file: path.display().to_string(),
        message: format!("cannot write: {}", e.kind().to_string().to_lowercase()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_made_with_another_key_is_an_error() {
        let text = br#"{"pkhound_baseline": 2, "fingerprint_key": "0badc0de", "findings": []}"#;
        let e = Baseline::parse("b.json", text, "12345678").unwrap_err().to_string();
        assert!(e.contains("made with fingerprint key 0badc0de"), "{e}");
        assert!(e.contains("this scan uses key 12345678"), "{e}");
        assert!(Baseline::parse("b.json", text, "0badc0de").is_ok());
        let legacy = br#"{"pkhound_baseline": 1, "findings": []}"#;
        assert!(Baseline::parse("b.json", legacy, "12345678").unwrap().is_legacy());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        /// Arbitrary bytes never panic the baseline reader. See: issue 12.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = Baseline::parse("b.json", &bytes, "12345678");
        }

        /// JSON-shaped input with the baseline's keys never panics either.
        #[test]
        fn arbitrary_baselineish_json_never_panics(
            version in 0u32..4,
            key in proptest::option::of("[0-9a-f]{0,10}"),
            entries in proptest::collection::vec(("\\PC{0,20}", "\\PC{0,12}", "\\PC{0,12}", 0usize..1000), 0..4),
        ) {
            let findings: Vec<serde_json::Value> = entries
                .iter()
                .map(|(f, r, p, l)| serde_json::json!({"fingerprint": f, "rule_id": r, "path": p, "line": l}))
                .collect();
            let mut doc = serde_json::json!({"pkhound_baseline": version, "findings": findings});
            if let Some(k) = key {
                doc["fingerprint_key"] = serde_json::Value::String(k);
            }
            let _ = Baseline::parse("b.json", doc.to_string().as_bytes(), "12345678");
        }
    }
}
