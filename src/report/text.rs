//! The report for people: findings grouped by file, each with its place, severity, rule, the redacted
//! secret in its line, and what to do; then errors, notices, the config applied and a one-line summary.
//!
//! Everything that comes from scanned files, git or a config (paths, lines, author names, messages) goes
//! through [`visible`]: a control character is shown escaped, never sent to the terminal.

use std::fmt::Write as _;

use colored::{ColoredString, Colorize};

use super::{visible, ReportInput, ReportOptions};
use crate::finding::{Context, Finding, History, Severity};

struct Painter {
    on: bool,
}

impl Painter {
    fn paint(&self, s: &str, f: impl Fn(&str) -> ColoredString) -> String {
        if self.on {
            f(s).to_string()
        } else {
            s.to_string()
        }
    }

    fn severity(&self, s: Severity) -> String {
        let label = format!("{:<8}", s.as_str().to_uppercase());
        self.paint(&label, |t| match s {
            Severity::Critical => t.red().bold(),
            Severity::High => t.red(),
            Severity::Medium => t.yellow(),
            Severity::Low => t.blue(),
            Severity::Info => t.dimmed(),
        })
    }
}

/// Renders the text report.
pub fn render(input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    let p = Painter { on: opts.color };
    let mut out = String::new();
    let mut current: Option<&str> = None;
    for f in input.findings {
        if current != Some(f.path.as_str()) {
            if current.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", p.paint(&visible(&f.path), |t| t.bold().underline()));
            current = Some(&f.path);
        }
        finding(&mut out, &p, f, opts);
    }
    if !input.findings.is_empty() {
        out.push('\n');
    }
    for e in input.errors {
        let _ = writeln!(
            out,
            "{} {}: {}",
            p.paint("error:", |t| t.red().bold()),
            visible(&e.path),
            visible(&e.message)
        );
    }
    for n in input.notices {
        let _ = writeln!(
            out,
            "{} {}: {}",
            p.paint("note:", |t| t.yellow()),
            visible(&n.path),
            visible(&n.message)
        );
    }
    if !input.errors.is_empty() || !input.notices.is_empty() {
        out.push('\n');
    }
    if let Some(c) = &input.run.config {
        let _ = writeln!(
            out,
            "{} {} ({})",
            p.paint("config:", |t| t.yellow()),
            visible(&c.path),
            c.source
        );
        for w in &c.weakens {
            let _ = writeln!(
                out,
                "  {} {}",
                p.paint("WEAKENS THE SCAN:", |t| t.red().bold()),
                visible(w)
            );
        }
        for ch in c.changes.iter().filter(|ch| !c.weakens.contains(ch)) {
            let _ = writeln!(out, "  {}", visible(ch));
        }
        out.push('\n');
    }
    out.push_str(&summary(input, &p));
    out.push('\n');
    out.into_bytes()
}

fn finding(out: &mut String, p: &Painter, f: &Finding, opts: &ReportOptions) {
    let shown = if opts.show_secrets {
        f.secret.expose().to_string()
    } else {
        f.secret.redacted()
    };
    let shown = match f.encoding {
        Some(enc) => format!("{shown} ({}-encoded)", enc.as_str()),
        None => shown,
    };
    let mut place = format!("{}:{}:{}", visible(&f.path), f.line, f.column);
    if let Some(c) = f.cell {
        place.push_str(&format!(" (cell {} {} line {})", c.index, c.kind.as_str(), c.line));
    }
    let _ = writeln!(
        out,
        "  {}  {}  {}  {}",
        p.paint(&place, |t| t.cyan()),
        p.severity(f.severity),
        p.paint(&visible(&f.rule.name), |t| t.bold()),
        p.paint(&visible(&shown), |t| t.magenta()),
    );
    if !f.snippet.is_empty() {
        let snippet = super::shown_snippet(f, opts);
        let _ = writeln!(out, "      {}", p.paint(&visible(&snippet), |t| t.dimmed()));
    }
    if let Some(h) = &f.history {
        history(out, p, f, h);
    }
    if let Some(note) = f.exposure_note() {
        let _ = writeln!(out, "      {} {}", p.paint("exposure:", |t| t.red()), visible(&note));
    }
    if f.context == Context::Test {
        let _ = writeln!(
            out,
            "      {} test, fixture, docs or example path (a real key here is still leaked)",
            p.paint("context:", |t| t.yellow())
        );
    }
    let _ = writeln!(
        out,
        "      {} {}",
        p.paint("fix:", |t| t.green()),
        visible(&f.remediation())
    );
    if f.history.is_some() {
        let _ = writeln!(
            out,
            "      {} rotate the key first: rewriting history alone does not un-leak a key that was pushed or cloned",
            p.paint("then:", |t| t.green())
        );
    }
}

/// How many other places `history` lists in the text report (JSON has the bounded list).
const TEXT_OCCURRENCES: usize = 3;

/// Where a history finding came in, whether HEAD still has it, and where else it sits.
fn history(out: &mut String, p: &Painter, f: &Finding, h: &History) {
    if let Some(c) = f.origin.commit() {
        let short = c.sha.get(..7).unwrap_or(&c.sha);
        let day = c.date.get(..10).unwrap_or(&c.date);
        let _ = writeln!(
            out,
            "      {} {} {} by {} <{}> at {}:{} \"{}\"",
            p.paint("introduced:", |t| t.yellow()),
            p.paint(short, |t| t.yellow()),
            visible(day),
            visible(&c.author),
            visible(&c.email),
            visible(&f.path),
            f.line,
            visible(&c.summary)
        );
    }
    let status = if h.in_head {
        "still in HEAD: rotate it, then remove it from the code"
    } else {
        "removed from HEAD but still in history: rotate it"
    };
    let _ = writeln!(out, "      {} {status}", p.paint("status:", |t| t.red()));
    let _ = writeln!(
        out,
        "      {} {} {} (commit, path) in history",
        p.paint("carried by:", |t| t.yellow()),
        h.occurrence_count,
        plural(h.occurrence_count, "place", "places")
    );
    for o in h.occurrences.iter().take(TEXT_OCCURRENCES) {
        let _ = writeln!(
            out,
            "        also {} {}:{}",
            visible(o.commit.get(..7).unwrap_or(&o.commit)),
            visible(&o.path),
            o.line
        );
    }
    let listed = h.occurrences.len().min(TEXT_OCCURRENCES);
    let rest = h.occurrence_count.saturating_sub(1).saturating_sub(listed);
    if rest > 0 {
        let _ = writeln!(
            out,
            "        … and {rest} more (--format json --all-occurrences lists them all)"
        );
    }
}

fn summary(input: &ReportInput<'_>, p: &Painter) -> String {
    let s = input.stats;
    let n = input.findings.len();
    let head = if n == 0 {
        p.paint("no secrets found", |t| t.green().bold())
    } else {
        let mut by_sev: Vec<String> = Vec::new();
        for sev in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            let c = input.findings.iter().filter(|f| f.severity == sev).count();
            if c > 0 {
                by_sev.push(format!("{c} {sev}"));
            }
        }
        let mut files: Vec<&str> = input.findings.iter().map(|f| f.path.as_str()).collect();
        files.dedup();
        let text = format!(
            "{n} {} ({}) in {} {}",
            plural(n, "finding", "findings"),
            by_sev.join(", "),
            files.len(),
            plural(files.len(), "file", "files")
        );
        p.paint(&text, |t| t.red().bold())
    };
    let commits = if s.commits > 0 {
        format!("{} {} · ", s.commits, plural(s.commits as usize, "commit", "commits"))
    } else {
        String::new()
    };
    let incomplete = if input.incomplete() {
        let text = format!(
            "INCOMPLETE: {} {} could not be scanned",
            input.errors.len(),
            plural(input.errors.len(), "place", "places")
        );
        format!("{} · ", p.paint(&text, |t| t.red().bold()))
    } else {
        String::new()
    };
    format!(
        "{incomplete}{head} · {commits}{} {} scanned ({}) · {} skipped · {} {} · {:.2}s",
        s.files,
        if s.commits > 0 {
            plural(s.files as usize, "blob", "blobs")
        } else {
            plural(s.files as usize, "file", "files")
        },
        human_bytes(s.bytes),
        s.skipped,
        input.errors.len(),
        plural(input.errors.len(), "error", "errors"),
        s.elapsed_ms as f64 / 1000.0
    )
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if b < 1000 {
        return format!("{b} B");
    }
    let mut v = b as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn bytes_are_human() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 KB");
        assert_eq!(human_bytes(23_600_000), "23.6 MB");
    }
}
