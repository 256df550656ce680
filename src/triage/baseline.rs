//! Baselines: adopt pkhound on a repository with known, accepted findings, and fail only on new ones.
//!
//! A baseline records findings by fingerprint (a hash of rule id and secret, never the secret), so it
//! survives lines moving and files being renamed: a secret already in the baseline is known wherever it
//! sits. Path and line are written for the humans who review the file; matching ignores them.

use std::{collections::BTreeSet, fs, path::Path};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::finding::Finding;

/// The format version written in every baseline.
const VERSION: u32 = 1;

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
}

impl Baseline {
    /// Reads a baseline written by `--baseline-out`.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let file = path.display().to_string();
        let read = |message: String| BaselineError::Read {
            file: file.clone(),
            message,
        };
        let bytes =
            fs::read(path).map_err(|e| read(format!("cannot read: {}", e.kind().to_string().to_lowercase())))?;
        let parsed: BaselineFile =
            serde_json::from_slice(&bytes).map_err(|e| read(format!("not a pkhound baseline: {e}")))?;
        if parsed.pkhound_baseline != VERSION {
            return Err(read(format!(
                "format version {} is not supported (this pkhound writes {VERSION})",
                parsed.pkhound_baseline
            )));
        }
        let fingerprints = parsed.findings.into_iter().map(|e| e.fingerprint).collect();
        Ok(Baseline { fingerprints })
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
        findings.retain(|f| !self.fingerprints.contains(f.fingerprint.as_str()));
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
