//! Reporters: each a pure function of (findings, errors, stats, options) → bytes. No I/O, clock, env or
//! terminal detection here: color and `--show-secrets` arrive in [`ReportOptions`].

pub mod json;
pub mod text;

use crate::finding::{Finding, Notice, ScanError, ScanStats};

/// Everything a reporter renders.
#[derive(Clone, Copy, Debug)]
pub struct ReportInput<'a> {
    pub findings: &'a [Finding],
    pub errors: &'a [ScanError],
    pub notices: &'a [Notice],
    pub stats: &'a ScanStats,
}

/// How to render.
#[derive(Clone, Copy, Debug)]
pub struct ReportOptions {
    /// Print raw secrets (`--show-secrets`); redacted otherwise.
    pub show_secrets: bool,
    /// ANSI colors (text only).
    pub color: bool,
}

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Findings grouped by file, for people.
    Text,
    /// One JSON document: findings, errors, stats.
    Json,
    /// One JSON finding per line, for streaming into other tools.
    Jsonl,
}

/// Renders the report in `format`.
pub fn render(format: Format, input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    match format {
        Format::Text => text::render(input, opts),
        Format::Json => json::render(input, opts),
        Format::Jsonl => json::render_lines(input, opts),
    }
}
