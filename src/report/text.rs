//! The report for people: findings grouped by secret (one credential to rotate, with every place that
//! holds it), the most urgent first (severity, still present, client-side); what to do, once per rule;
//! then errors, notices, the config applied and a one-line summary. `--compact` prints one line per
//! finding instead, for grep and editors.
//!
//! Everything that comes from scanned files, git or a config (paths, lines, author names, messages) goes
//! through [`visible`]: a control character is shown escaped, never sent to the terminal. Paths are shown
//! as the user can open them from the current directory ([`RunInfo::shown_path`]).

use std::{cmp::Reverse, collections::HashMap, fmt::Write as _};

use colored::{ColoredString, Colorize};

use super::{visible, ReportInput, ReportOptions};
use crate::finding::{Context, Exposure, Finding, HeadStatus, History, Place, Severity, Timeline};
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

/// One credential: a (rule, secret) pair and every place it was found. The unit a person acts on
/// (rotate it once), and where a per-secret status (still present, client-side, verified) belongs.
pub struct SecretGroup<'a> {
    /// The places, in report order.
    pub findings: Vec<&'a Finding>,
    /// The highest severity among the places (client-side code raises it).
    pub severity: Severity,
    /// Still present: in the working tree, or (for history) in HEAD.
    pub present: bool,
    /// Some place is served to browsers.
    pub client_side: bool,
    /// A remote-tracking ref reaches it (history only).
    pub pushed: bool,
    /// When it was first seen (Unix seconds; history only): the older, the longer exposed.
    pub first_seen: Option<i64>,
}

impl SecretGroup<'_> {
    fn first(&self) -> &Finding {
        self.findings[0]
    }
}

/// The findings grouped by (rule, secret), the most urgent first: still present (in HEAD, or in the
/// working tree), then pushed, then severity, then client-side, then the longest exposed, then the first
/// place.
pub fn groups<'a>(findings: &'a [Finding]) -> Vec<SecretGroup<'a>> {
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut groups: Vec<SecretGroup<'a>> = Vec::new();
    for f in super::sorted(findings) {
        let present = f.history.as_ref().is_none_or(|h| h.in_head);
        let client = f.exposure == Exposure::ClientSide;
        let pushed = f.history.as_ref().is_some_and(History::pushed);
        let first_seen = f
            .history
            .as_ref()
            .and_then(|h| h.timeline.as_ref())
            .and_then(|t| t.first_seen.as_ref())
            .map(|s| s.time);
        let key = (f.rule.id.as_str(), f.fingerprint.as_str());
        match index.get(&key) {
            Some(&i) => {
                let g = &mut groups[i];
                g.findings.push(f);
                g.severity = g.severity.max(f.severity);
                g.present |= present;
                g.client_side |= client;
                g.pushed |= pushed;
                g.first_seen = match (g.first_seen, first_seen) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            None => {
                index.insert(key, groups.len());
                groups.push(SecretGroup {
                    findings: vec![f],
                    severity: f.severity,
                    present,
                    client_side: client,
                    pushed,
                    first_seen,
                });
            }
        }
    }
    groups.sort_by(|a, b| {
        let age = |g: &SecretGroup<'_>| g.first_seen.unwrap_or(i64::MAX);
        (!a.present, !a.pushed, Reverse(a.severity), !a.client_side, age(a))
            .cmp(&(!b.present, !b.pushed, Reverse(b.severity), !b.client_side, age(b)))
            .then_with(|| a.first().sort_key().cmp(&b.first().sort_key()))
    });
    groups
}

/// Renders the text report.
pub fn render(input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    if opts.compact {
        return compact(input, opts);
    }
    let p = Painter { on: opts.color };
    let run = input.run;
    let mut out = String::new();
    let groups = groups(input.findings);
    for g in &groups {
        group(&mut out, &p, g, input, opts);
        out.push('\n');
    }
    if !groups.is_empty() {
        accounts(&mut out, &p, input.findings);
        what_to_do(&mut out, &p, &groups);
        out.push('\n');
    }
    let listed_errors = if opts.list_errors { input.errors.len() } else { 0 };
    for e in input.errors.iter().take(listed_errors) {
        let _ = writeln!(
            out,
            "{} {}: {}",
            p.paint("error:", |t| t.red().bold()),
            visible(&run.shown_path(&e.path)),
            visible(&e.message)
        );
    }
    for n in input.notices {
        let _ = writeln!(
            out,
            "{} {}: {}",
            p.paint("note:", |t| t.yellow()),
            visible(&run.shown_path(&n.path)),
            visible(&n.message)
        );
    }
    if listed_errors > 0 || !input.notices.is_empty() {
        out.push('\n');
    }
    if let Some(c) = &run.config {
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
    out.push_str(&summary(input, &p, opts));
    out.push('\n');
    out.into_bytes()
}

/// `--compact`: one line per finding, `path:line:column: severity rule-id secret`, sorted by place;
/// nothing else (the summary goes to stderr).
fn compact(input: &ReportInput<'_>, opts: &ReportOptions) -> Vec<u8> {
    let p = Painter { on: opts.color };
    let mut out = String::new();
    for f in super::sorted(input.findings) {
        let place = format!("{}:{}:{}", visible(&input.run.shown_path(&f.path)), f.line, f.column);
        let _ = writeln!(
            out,
            "{}: {} {} {}",
            p.paint(&place, |t| t.cyan()),
            f.severity,
            f.rule.id,
            p.paint(&visible(&shown_secret(f, opts)), |t| t.magenta()),
        );
    }
    out.into_bytes()
}

/// The secret as shown, with its encoding when it was found encoded.
fn shown_secret(f: &Finding, opts: &ReportOptions) -> String {
    let shown = super::shown_secret(f, opts);
    match f.encoding {
        Some(enc) => format!("{shown} ({}-encoded)", enc.as_str()),
        None => shown,
    }
}

/// One secret: a header (severity, rule, the redacted secret, how many places, what makes it urgent),
/// then each place with its line.
fn group(out: &mut String, p: &Painter, g: &SecretGroup<'_>, input: &ReportInput<'_>, opts: &ReportOptions) {
    let run = input.run;
    let f = g.first();
    let places = g.findings.len();
    let mut notes: Vec<String> = vec![format!("{places} {}", plural(places, "place", "places"))];
    if g.client_side {
        notes.push(p.paint("in code served to browsers: treat it as public", |t| t.red()));
    }
    if let Some(h) = &f.history {
        notes.push(match (g.present, h.head_status()) {
            (true, _) | (_, HeadStatus::InHead) => p.paint("still in HEAD", |t| t.red()),
            (false, HeadStatus::Removed(_)) => p.paint("removed from HEAD, still in history", |t| t.yellow()),
            (false, HeadStatus::NeverInHead) => p.paint("never in HEAD, still in history", |t| t.yellow()),
        });
        if g.pushed {
            notes.push(p.paint("pushed", |t| t.red()));
        }
        if h.new == Some(true) {
            notes.push(p.paint("NEW since the last run", |t| t.red().bold()));
        }
    }
    if f.severity < run.outcome.fail_on && g.severity < run.outcome.fail_on {
        notes.push(format!("below --fail-on {}", run.outcome.fail_on));
    }
    let _ = writeln!(
        out,
        "{}  {}  {}  ({})  · {}",
        p.severity(g.severity),
        p.paint(&visible(&f.rule.name), |t| t.bold()),
        p.paint(&visible(&shown_secret(f, opts)), |t| t.magenta()),
        f.rule.id,
        notes.join(" · ")
    );
    if let Some(v) = &f.verification {
        let _ = writeln!(
            out,
            "  {} {}",
            p.paint("verified:", |t| match v.status {
                Status::Live => t.red().bold(),
                _ => t.yellow(),
            }),
            visible(&super::verification::summary(v))
        );
        if let Some(scopes) = &v.scopes {
            scope_table(out, p, scopes);
        }
    }
    if let Some(note) = g.findings.iter().find_map(|f| f.exposure_note()) {
        let _ = writeln!(out, "  {} {}", p.paint("exposure:", |t| t.red()), visible(&note));
    }
    for f in &g.findings {
        place(out, p, f, input, opts);
    }
}

/// One place of a secret: where, its line, and what the path says about it.
fn place(out: &mut String, p: &Painter, f: &Finding, input: &ReportInput<'_>, opts: &ReportOptions) {
    let run = input.run;
    let place = match (f.place, f.origin.commit()) {
        (Place::CommitMessage, Some(c)) => format!(
            "commit {} message:{}:{}",
            c.sha.get(..7).unwrap_or(&c.sha),
            f.line,
            f.column
        ),
        _ => format!("{}:{}:{}", visible(&run.shown_path(&f.path)), f.line, f.column),
    };
    let place = match f.cell {
        Some(c) => format!("{place} (cell {} {} line {})", c.index, c.kind.as_str(), c.line),
        None => place,
    };
    let mut line = format!("  {}", p.paint(&place, |t| t.cyan()));
    if !f.snippet.is_empty() {
        let snippet = super::shown_snippet(f, opts);
        let _ = write!(line, "  {}", p.paint(&super::visible_line(&snippet), |t| t.dimmed()));
    }
    if let Some(enc) = f.encoding {
        let _ = write!(line, "  [{}-encoded]", enc.as_str());
    }
    if f.exposure == Exposure::ClientSide {
        let _ = write!(line, "  {}", p.paint("[client-side]", |t| t.red()));
    }
    if f.context == Context::Test {
        let _ = write!(line, "  {}", p.paint("[test path: still leaked]", |t| t.yellow()));
    }
    if input.git_ignored(f) {
        let _ = write!(
            line,
            "  {}",
            p.paint(
                "[ignored by git: not committed, but copied by builds and backups]",
                |t| t.yellow()
            )
        );
    }
    let _ = writeln!(out, "{line}");
    if let Some(h) = &f.history {
        history(out, p, f, h);
    }
}

/// What to do, once per rule, in the order the rules first appear; then the advice that applies to all.
fn what_to_do(out: &mut String, p: &Painter, groups: &[SecretGroup<'_>]) {
    let _ = writeln!(out, "{}", p.paint("What to do", |t| t.green().bold()));
    let mut seen: Vec<&str> = Vec::new();
    for g in groups {
        let f = g.first();
        if seen.contains(&f.rule.id.as_str()) {
            continue;
        }
        seen.push(f.rule.id.as_str());
        // A live key of the rule gets the concrete steps its verification calls for.
        let live = groups
            .iter()
            .map(SecretGroup::first)
            .filter(|o| o.rule.id == f.rule.id)
            .find(|o| o.verification.as_ref().is_some_and(|v| v.status == Status::Live))
            .unwrap_or(f);
        let _ = writeln!(
            out,
            "  {} {}",
            p.paint(&format!("{}:", f.rule.id), |t| t.green()),
            visible(&super::verification::remediation(live))
        );
    }
    if groups.iter().any(|g| g.first().history.is_some()) {
        let _ = writeln!(
            out,
            "  {} rotate first: rewriting history alone does not un-leak a key that was pushed or cloned",
            p.paint("history:", |t| t.green())
        );
    }
    let _ = writeln!(
        out,
        "  {} add `pkhound:allow` in a comment on the line, or record known findings with --baseline-out",
        p.paint("false positive:", |t| t.green())
    );
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
            "      {} {} {} by {} <{}> \"{}\"",
            p.paint("introduced:", |t| t.yellow()),
            p.paint(short, |t| t.yellow()),
            visible(day),
            visible(&c.author),
            visible(&c.email),
            visible(&c.summary)
        );
    }
    let status = match h.head_status() {
        HeadStatus::InHead => "still in HEAD: rotate it, then remove it from the code".to_string(),
        HeadStatus::Removed(_) => "removed from HEAD but still in history: rotate it".to_string(),
        HeadStatus::NeverInHead if f.place == Place::CommitMessage => {
            "in a commit message, never in HEAD's files: rotate it (only a history rewrite removes the message)"
                .to_string()
        }
        HeadStatus::NeverInHead => "never in HEAD's files, but in history: rotate it".to_string(),
    };
    let _ = writeln!(out, "      {} {status}", p.paint("status:", |t| t.red()));
    if let Some(t) = &h.timeline {
        let _ = writeln!(
            out,
            "      {} {}",
            p.paint("timeline:", |t| t.yellow()),
            visible(&timeline_words(h, t))
        );
        if t.ref_count > 0 {
            let more = t.ref_count.saturating_sub(t.refs.len());
            let _ = writeln!(
                out,
                "      {} {}{}",
                p.paint("reached from:", |t| t.yellow()),
                visible(&t.refs.join(", ")),
                if more > 0 {
                    format!(" … and {more} more refs")
                } else {
                    String::new()
                }
            );
        }
    }
    let _ = writeln!(
        out,
        "      {} {} {} (commit, path) in history",
        p.paint("carried by:", |t| t.yellow()),
        h.occurrence_count,
        plural(h.occurrence_count, "place", "places")
    );
    for o in h.occurrences.iter().take(TEXT_OCCURRENCES) {
        let sha = visible(o.commit.get(..7).unwrap_or(&o.commit)).into_owned();
        let _ = match o.place {
            Place::CommitMessage => writeln!(out, "        also commit {sha} message:{}", o.line),
            Place::File => writeln!(out, "        also {sha} {}:{}", visible(&o.path), o.line),
        };
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

/// A timeline in words: `in history for 412 days; pushed to origin; removed from HEAD in 3f2a1c0 on
/// 2025-03-02`.
pub fn timeline_words(h: &History, t: &Timeline) -> String {
    let mut parts = vec![format!(
        "in history for {} {}",
        t.exposed_days,
        plural(t.exposed_days as usize, "day", "days")
    )];
    parts.push(if t.pushed {
        format!("pushed to {}", t.remotes.join(", "))
    } else {
        "not pushed (no remote-tracking ref reaches it)".to_string()
    });
    parts.push(match h.head_status() {
        HeadStatus::InHead => "still in HEAD".to_string(),
        HeadStatus::Removed(Some(r)) => format!(
            "removed from HEAD in {} on {}",
            r.sha.get(..7).unwrap_or(&r.sha),
            r.date.get(..10).unwrap_or(&r.date)
        ),
        HeadStatus::Removed(None) => "no longer in HEAD".to_string(),
        HeadStatus::NeverInHead => "never on HEAD's branch".to_string(),
    });
    parts.join("; ")
}

/// The headline of a report: `3 secrets in 4 places (2 critical, 1 high) in 3 files`, or `no secrets
/// found` (`nothing found in what could be scanned` when something could not be). Plain text: the
/// stderr summary uses it too.
pub fn headline(input: &ReportInput<'_>) -> String {
    let n = input.findings.len();
    if n == 0 {
        return if input.incomplete() {
            "nothing found in what could be scanned".to_string()
        } else {
            "no secrets found".to_string()
        };
    }
    let groups = groups(input.findings);
    let mut by_sev: Vec<String> = Vec::new();
    for sev in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ] {
        let c = groups.iter().filter(|g| g.severity == sev).count();
        if c > 0 {
            by_sev.push(format!("{c} {sev}"));
        }
    }
    // A commit message is not a file: counted apart.
    let mut files: Vec<&str> = input
        .findings
        .iter()
        .filter(|f| f.place == Place::File)
        .map(|f| f.path.as_str())
        .collect();
    files.sort_unstable();
    files.dedup();
    let messages = input
        .findings
        .iter()
        .filter(|f| f.place == Place::CommitMessage)
        .count();
    let mut wheres: Vec<String> = Vec::new();
    if !files.is_empty() {
        wheres.push(format!("{} {}", files.len(), plural(files.len(), "file", "files")));
    }
    if messages > 0 {
        wheres.push(format!("{messages} commit {}", plural(messages, "message", "messages")));
    }
    format!(
        "{} {} in {n} {} ({}) in {}",
        groups.len(),
        plural(groups.len(), "secret", "secrets"),
        plural(n, "place", "places"),
        by_sev.join(", "),
        wheres.join(" and ")
    )
}

fn summary(input: &ReportInput<'_>, p: &Painter, opts: &ReportOptions) -> String {
    let s = input.stats;
    let n = input.findings.len();
    let text = headline(input);
    let head = if n == 0 && !input.incomplete() {
        p.paint(&text, |t| t.green().bold())
    } else {
        p.paint(&text, |t| t.red().bold())
    };
    let blocking = input.findings.iter().filter(|f| input.run.blocks(f)).count();
    let blocking = if n > 0 && blocking < n {
        format!(" · {blocking} blocking at --fail-on {}", input.run.outcome.fail_on)
    } else {
        String::new()
    };
    let keys = key_counts(input.findings);
    let commits = if s.commits > 0 {
        format!("{} {} · ", s.commits, plural(s.commits as usize, "commit", "commits"))
    } else {
        String::new()
    };
    // An audit: how many repositories were scanned, and how many could not be.
    let commits = if s.repositories + s.repositories_failed > 0 {
        format!(
            "{} {} scanned, {} failed · {commits}",
            s.repositories,
            plural(s.repositories as usize, "repository", "repositories"),
            s.repositories_failed
        )
    } else {
        commits
    };
    let incomplete = if input.incomplete() {
        let text = format!(
            "INCOMPLETE: {} {} could not be scanned{}",
            input.errors.len(),
            plural(input.errors.len(), "place", "places"),
            if opts.list_errors { "" } else { " (listed on stderr)" }
        );
        format!("{} · ", p.paint(&text, |t| t.red().bold()))
    } else {
        String::new()
    };
    let state = match s.state {
        Some(st) => format!(
            " · --state: {} new {} read, {} known clean skipped, {} known with secrets re-read",
            st.blobs_new,
            plural(st.blobs_new as usize, "blob", "blobs"),
            st.blobs_skipped,
            st.blobs_reread
        ),
        None => String::new(),
    };
    let ignored = if s.ignored_files.is_empty() {
        String::new()
    } else {
        format!(
            " · {} ignored {} scanned for {} name (--no-ignore scans every ignored file)",
            s.ignored_files.len(),
            plural(s.ignored_files.len(), "file", "files"),
            plural(s.ignored_files.len(), "its", "their"),
        )
    };
    format!(
        "{incomplete}{head}{blocking}{keys} · {commits}{} {} scanned ({}){state}{ignored} · {} skipped · {} {} · {:.2}s",
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

/// ` · 2 still in HEAD · 3 pushed · 1 live · 1 unknown`: counted per secret, history counts for a
/// history scan, verification counts with `--verify`; empty when neither applies.
pub fn key_counts(findings: &[Finding]) -> String {
    let groups = groups(findings);
    let mut out = String::new();
    if findings.iter().any(|f| f.history.is_some()) {
        let in_head = groups
            .iter()
            .filter(|g| g.present && g.first().history.is_some())
            .count();
        let pushed = groups.iter().filter(|g| g.pushed).count();
        let _ = write!(out, " · {in_head} still in HEAD · {pushed} pushed");
    }
    if findings.iter().any(|f| f.verification.is_some()) {
        let status = |s: Status| {
            groups
                .iter()
                .filter(|g| {
                    g.findings
                        .iter()
                        .any(|f| f.verification.as_ref().is_some_and(|v| v.status == s))
                })
                .count()
        };
        let _ = write!(
            out,
            " · {} live · {} unknown",
            status(Status::Live),
            status(Status::Unknown)
        );
    }
    out
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
