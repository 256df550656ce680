//! The report for people: findings grouped by file, each with its place, severity, rule, the redacted
//! secret in its line, and what to do; then errors, notices, the config applied and a one-line summary.
//!
//! Everything that comes from scanned files, git or a config (paths, lines, author names, messages) goes
//! through [`visible`]: a control character is shown escaped, never sent to the terminal.

use std::fmt::Write as _;

use colored::{ColoredString, Colorize};

use super::{visible, ReportInput, ReportOptions};
use crate::finding::{Context, Exposure, Finding, History, Severity};
use crate::verify::{klaviyo::company_prefix, ScopeMap, Status};

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
    // A key's scope table is shown once, at its first finding.
    let mut tabled = std::collections::HashSet::new();
    for f in input.findings {
        if current != Some(f.path.as_str()) {
            if current.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", p.paint(&visible(&f.path), |t| t.bold().underline()));
            current = Some(&f.path);
        }
        let table = f.verification.as_ref().is_some_and(|v| v.scopes.is_some()) && tabled.insert(&f.fingerprint);
        finding(&mut out, &p, f, opts, table);
    }
    if !input.findings.is_empty() {
        out.push('\n');
        accounts(&mut out, &p, input.findings);
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

/// One finding; `table`: print its key's blast-radius table (once per key).
fn finding(out: &mut String, p: &Painter, f: &Finding, opts: &ReportOptions, table: bool) {
    let shown = if opts.show_secrets {
        f.secret.expose().to_string()
    } else {
        f.secret.redacted()
    };
    let shown = match f.encoding {
        Some(enc) => format!("{shown} ({}-encoded)", enc.as_str()),
        None => shown,
    };
    let place = format!("{}:{}:{}", visible(&f.path), f.line, f.column);
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
    if f.exposure == Exposure::ClientSide {
        let _ = writeln!(
            out,
            "      {} this file is served to browsers: treat the key as public",
            p.paint("exposure:", |t| t.red())
        );
    }
    if f.context == Context::Test {
        let _ = writeln!(
            out,
            "      {} test, fixture, docs or example path (a real key here is still leaked)",
            p.paint("context:", |t| t.yellow())
        );
    }
    if let Some(v) = &f.verification {
        let _ = writeln!(
            out,
            "      {} {}",
            p.paint("verified:", |t| match v.status {
                Status::Live => t.red().bold(),
                _ => t.yellow(),
            }),
            visible(&super::verification::summary(v))
        );
        if let Some(scopes) = v.scopes.as_ref().filter(|_| table) {
            scope_table(out, p, scopes);
        }
    }
    let _ = writeln!(
        out,
        "      {} {}",
        p.paint("fix:", |t| t.green()),
        visible(super::verification::remediation(f))
    );
    if f.history.is_some() {
        let _ = writeln!(
            out,
            "      {} rotate the key first: rewriting history alone does not un-leak a key that was pushed or cloned",
            p.paint("then:", |t| t.green())
        );
    }
}

/// `--blast-radius`: one row per read scope, granted first.
fn scope_table(out: &mut String, p: &Painter, scopes: &ScopeMap) {
    let _ = writeln!(
        out,
        "      {} read scopes this key holds (write scopes {})",
        p.paint("blast radius:", |t| t.red()),
        super::verification::WRITE_NOTE
    );
    let width = scopes.granted.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in &scopes.granted {
        let _ = writeln!(
            out,
            "        {}  {:<width$}  {}",
            p.paint("granted", |t| t.red()),
            s.name,
            s.exposes
        );
    }
    if !scopes.denied.is_empty() {
        let names: Vec<&str> = scopes.denied.iter().map(|s| s.name).collect();
        let _ = writeln!(out, "        denied   {}", names.join(", "));
    }
    for s in &scopes.unknown {
        let _ = writeln!(out, "        unknown  {} ({})", s.name, s.note);
    }
    let pii = scopes.reads_customer_data();
    let sending = scopes.reads_sending_setup();
    let _ = writeln!(
        out,
        "        {} customer PII and purchase events: {}; sending setup (campaigns, flows, templates): {}",
        p.paint("reach:", |t| t.red()),
        if pii { "readable" } else { "not readable" },
        if sending { "readable" } else { "not readable" }
    );
}

/// Klaviyo keys grouped by account: by the account a verification returned; else, for `pk_XXXXXX_…` keys,
/// by the company id in the key, which joins an account's group only once a verified key with the same
/// prefix showed that prefix is that account's public key, and otherwise stays marked unconfirmed. Shown
/// when two or more keys share a group, or when any key's account is known.
fn accounts(out: &mut String, p: &Painter, findings: &[Finding]) {
    use std::collections::{BTreeMap, HashMap};
    let klaviyo = || findings.iter().filter(|f| f.rule.id.as_str().starts_with("klaviyo-"));
    let account = |f: &Finding| f.verification.as_ref().and_then(|v| v.account.clone());
    let label = |a: &crate::verify::Account| {
        let org = a
            .organization
            .as_deref()
            .map(|o| format!(" \"{o}\""))
            .unwrap_or_default();
        format!("account {}{org} (confirmed by Klaviyo)", a.id)
    };
    // Prefixes a response confirmed as an account's public key.
    let confirmed: HashMap<String, String> = klaviyo()
        .filter_map(|f| {
            let a = account(f)?;
            let prefix = company_prefix(&f.secret)?;
            (a.prefix_is_public_key == Some(true)).then(|| (prefix.to_string(), label(&a)))
        })
        .collect();
    // (unconfirmed, label) → fingerprint → shown key.
    let mut groups: BTreeMap<(bool, String), BTreeMap<String, String>> = BTreeMap::new();
    for f in klaviyo() {
        let (key, shown) = match (account(f), company_prefix(&f.secret)) {
            (Some(a), _) => ((false, label(&a)), f.secret.redacted()),
            (None, Some(prefix)) => match confirmed.get(prefix) {
                Some(l) => ((false, l.clone()), format!("{} (by its company id)", f.secret.redacted())),
                None => (
                    (
                        true,
                        format!(
                            "company id {prefix} in the key (unconfirmed: --verify checks it against the account's public key)"
                        ),
                    ),
                    f.secret.redacted(),
                ),
            },
            (None, None) => continue,
        };
        groups.entry(key).or_default().insert(f.fingerprint.to_string(), shown);
    }
    let show = groups.keys().any(|(unconfirmed, _)| !unconfirmed) || groups.values().any(|k| k.len() > 1);
    if !show {
        return;
    }
    let _ = writeln!(out, "{}", p.paint("Klaviyo keys by account:", |t| t.bold()));
    for ((_, label), keys) in &groups {
        let keys: Vec<&str> = keys.values().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "  {}: {} {} ({})",
            visible(label),
            keys.len(),
            plural(keys.len(), "key", "keys"),
            keys.join(", ")
        );
    }
    out.push('\n');
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
