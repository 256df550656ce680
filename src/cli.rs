//! The command line: every flag, its help text and its default, in one place. Resolved once into a
//! [`ScanConfig`](crate::scan::ScanConfig); nothing past `app` sees these types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::finding::Severity;
use crate::report::Format;

/// `--version`: the package version, the git commit it was built from (when built from a checkout) and
/// the number of built-in rules, from `build.rs`.
pub const VERSION: &str = env!("PKHOUND_LONG_VERSION");

/// Find leaked Klaviyo private API keys and the other secrets beside them (800+ rules) in files,
/// directories, git history and standard input.
///
/// Exit status: 0 nothing at or above --fail-on; 1 findings; 2 usage error, or something could not be
/// scanned and nothing was found.
#[derive(Debug, Parser)]
#[command(name = "pkhound", version = VERSION, about, long_about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (default: the current directory) for secrets.
    Scan(Box<ScanArgs>),
    /// Scan the whole history of many repositories (found under directories, or listed in a file) into
    /// one report; `--shard I/N` takes a share of them.
    Audit(Box<AuditArgs>),
    /// Combine JSON reports (the shards of an audit or scan) into one report, in any format.
    Merge(Box<MergeArgs>),
    /// List the built-in rules, show one (`pkhound rules show ID`), or check a rules or config file
    /// (`pkhound rules check FILE`).
    Rules(RulesArgs),
    /// Print a shell completion script (`pkhound completions bash > /etc/bash_completion.d/pkhound`).
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from this command line (`pkhound man > pkhound.1`).
    Man,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Scan what `git commit` would record (the index against HEAD) and report only secrets on the lines
    /// the commit adds: for pre-commit hooks.
    ///
    /// PATH (at most one) is any place inside the repository. The work tree is not read, so partial
    /// staging (`git add -p`) is honoured. With the text format the output is a header ("pkhound blocked
    /// this commit: 2 secrets"), one line per blocking finding and the ways forward, and nothing at all
    /// when the change is clean.
    #[arg(long)]
    pub staged: bool,

    #[command(flatten)]
    pub out: OutputArgs,

    /// Also list each skipped file and why on stderr.
    #[arg(short, long, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Scan files that .gitignore, .ignore, .pkhoundignore and git's exclude files would skip.
    #[arg(long)]
    pub no_ignore: bool,

    /// Follow symbolic links (off by default: a link is skipped and counted).
    #[arg(short = 'L', long)]
    pub follow: bool,

    /// Read files larger than this as streams, in overlapping windows of this size (suffixes K, M, G:
    /// powers of 1024; at least 1M).
    ///
    /// The limit bounds memory (one window per thread), not coverage: nothing is skipped for its size.
    /// Standard input and pipes named on the command line are always streamed.
    #[arg(long, value_name = "SIZE", default_value = "100M", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Do not open archives: zip family (.zip, .jar, .war, .whl, .apk, .nupkg …), tar, gzip (.gz, .tgz)
    /// are then passed over as binary.
    ///
    /// By default their members are scanned like files, in the working tree and in history, and
    /// reported as `outer.zip!inner/path`; nested archives are opened up to --max-archive-depth.
    #[arg(long)]
    pub no_archives: bool,

    /// How many archives deep members are opened (`a.zip` is 1, `a.zip!b.jar` is 2); a deeper archive
    /// is an error in the report, not a silent skip.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub max_archive_depth: u32,

    /// Exit 1 only for findings at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::Low, value_name = "SEVERITY")]
    pub fail_on: Severity,

    /// Worker threads (0: one per core).
    #[arg(short = 'j', long, default_value_t = 0, value_name = "N")]
    pub threads: usize,

    /// Never show the progress indicator (it shows only on an attended terminal, never in CI).
    #[arg(long)]
    pub no_progress: bool,

    /// Load this config (pkhound's format or a gitleaks config) instead of `.pkhound.toml` at the scan root.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Do not load `.pkhound.toml` from the scan root.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Load `.pkhound.toml` as committed at REF (e.g. `origin/main`), not from the working tree.
    ///
    /// For CI on a change under review: the change cannot weaken its own scan. `--range A..B` does this
    /// by itself, with A.
    #[arg(long, value_name = "REF", conflicts_with_all = ["config", "no_config"])]
    pub config_ref: Option<String>,

    #[command(flatten)]
    pub rule_set: RuleArgs,

    #[command(flatten)]
    pub triage: TriageArgs,

    /// Scan the git history of the repository at PATH: every commit reachable from any ref (branches,
    /// tags, remote-tracking refs, stash) and HEAD.
    ///
    /// Each unique blob is read once; each secret is reported once, with the commit that first brought it
    /// in, how many places carry it, and whether HEAD still has it. Commit messages are scanned too.
    #[arg(long)]
    pub history: bool,

    /// With --history (or --branch/--range/--since): also scan the working tree, as a plain scan would.
    #[arg(long)]
    pub worktree: bool,

    /// Scan the history of one branch, tag or revision only (implies --history).
    #[arg(long, value_name = "REF", conflicts_with = "range")]
    pub branch: Option<String>,

    /// Scan the commits of A..B only and report what they introduced (implies --history). For CI on a
    /// pull request: `--range origin/main..HEAD`.
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,

    /// Skip commits older than DATE (`2024-03-01` or RFC 3339; implies --history).
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<i64>,

    /// Remember in FILE what this history scan covered; the next run with the same FILE compares only new
    /// commits' trees and reads only blobs not read before, and marks findings no earlier run reported
    /// as new (implies --history).
    ///
    /// The file holds commit and blob ids, ref tips, and for blobs that held a secret their places and
    /// fingerprints, never a secret. A damaged file, or one written for another repository or fingerprint
    /// key, is an error. Findings that are no longer reachable (history rewritten) are named in notices.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// With --history: read only share I of N (0-based) of the unique blobs and commit messages, by
    /// object id; the walk, places and timeline stay whole, so the N reports merged equal one run.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,

    /// List every (commit, path, line) that carries each secret, not just the first 20.
    #[arg(long)]
    pub all_occurrences: bool,

    #[command(flatten)]
    pub verification: VerifyArgs,
}

impl ScanArgs {
    /// True when git history is to be scanned.
    pub fn history_mode(&self) -> bool {
        self.history
            || self.branch.is_some()
            || self.range.is_some()
            || self.since.is_some()
            || self.state.is_some()
            || self.shard.is_some()
    }
}

/// `pkhound audit`: the options of `scan --history` that make sense over many repositories, and the
/// repositories themselves.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Repositories (work trees or bare), or directories searched for them (see --max-depth).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Read more repository paths from FILE, one per line (`#` comments and blank lines are ignored;
    /// relative paths are relative to the current directory). A path that is not a repository is an
    /// error entry in the report and the audit goes on.
    #[arg(long, value_name = "FILE")]
    pub repos: Option<PathBuf>,

    /// Scan only share I of N (0-based: `--shard 0/4` … `--shard 3/4`), for fan-out over machines.
    ///
    /// A repository belongs to the share its name hashes to: the `--repos` line as written, or its path
    /// under the PATH it was found in (as typed, for a PATH that is itself a repository). The names, not
    /// absolute paths, so machines that mount the repositories elsewhere agree; not the origin URL,
    /// which copies share and local repositories lack. Combine the shards' JSON reports with `pkhound
    /// merge`.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,

    /// Print the repositories this run (this shard) would scan, one name per line, and scan nothing:
    /// to fetch only a shard's share before auditing it.
    #[arg(long)]
    pub list: bool,

    /// How deep to search each directory PATH for repositories (1: its direct subdirectories).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub max_depth: usize,

    #[command(flatten)]
    pub out: OutputArgs,

    /// Exit 1 only for findings at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::Low, value_name = "SEVERITY")]
    pub fail_on: Severity,

    /// Worker threads per repository (0: one per core). Repositories are scanned one after the other,
    /// so memory is bounded by the largest one, not by their number.
    #[arg(short = 'j', long, default_value_t = 0, value_name = "N")]
    pub threads: usize,

    /// Never show the progress indicator (it shows only on an attended terminal, never in CI).
    #[arg(long)]
    pub no_progress: bool,

    /// Load this config (pkhound's format or a gitleaks config) for every repository. Without it no
    /// config is read: a repository's own `.pkhound.toml` does not change the audit.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub rule_set: RuleArgs,

    #[command(flatten)]
    pub triage: TriageArgs,

    /// Skip commits older than DATE (`2024-03-01` or RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<i64>,

    /// List every (commit, path, line) that carries each secret, not just the first 20 per repository.
    #[arg(long)]
    pub all_occurrences: bool,

    /// Blobs larger than this are scanned in windows of this size (suffixes K, M, G).
    #[arg(long, value_name = "SIZE", default_value = "100M", value_parser = parse_size)]
    pub max_file_size: u64,

    #[command(flatten)]
    pub verification: VerifyArgs,
}

/// `pkhound merge`: shard reports in, one report out.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports (`--format json`) of the same pkhound version, fingerprint key, rules and --fail-on.
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,

    #[command(flatten)]
    pub out: OutputArgs,

    /// The config the shards ran with (`--config`), when they ran with one: the merge checks that its
    /// rules are the reports' rules and reads rule details from it.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// How the report is written and shown: the same flags for `scan`, `audit` and `merge`.
#[derive(Clone, Debug, Args)]
pub struct OutputArgs {
    /// Report format.
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of standard output (a one-line summary goes to stderr).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// With the text format: one line per finding (`path:line:column: severity rule secret`), for grep
    /// and editors; the summary goes to stderr.
    #[arg(long)]
    pub compact: bool,

    /// Print nothing on stderr but errors and warnings (no summary, no notes).
    #[arg(short, long)]
    pub quiet: bool,

    /// When to color the text report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Print secrets in full. Off by default: every output shows the redacted form (`pk_ab…9f`).
    /// `merge` can show them only when its reports were written with --show-secrets.
    #[arg(long)]
    pub show_secrets: bool,
}

/// Which rules run: `scan` and `audit`.
#[derive(Clone, Debug, Default, Args)]
pub struct RuleArgs {
    /// Run only these rules (comma-separated or repeated).
    #[arg(long, value_name = "RULE_ID", value_delimiter = ',', num_args = 1..)]
    pub only: Vec<String>,

    /// Do not run these rules (comma-separated or repeated).
    #[arg(long, value_name = "RULE_ID", value_delimiter = ',', num_args = 1..)]
    pub skip: Vec<String>,
}

/// Baselines and the fingerprint key they rest on: `scan` and `audit`.
#[derive(Clone, Debug, Default, Args)]
pub struct TriageArgs {
    /// Report only findings whose fingerprint is not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write every current finding's fingerprint (never the secret) to FILE, to use with --baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline_out: Option<PathBuf>,

    /// Read the fingerprint key from FILE (at least 16 characters).
    ///
    /// Fingerprints are HMAC-SHA-256 of rule and secret under a key kept out of every report. Default:
    /// $PKHOUND_FINGERPRINT_KEY (the key itself), else the per-user key file
    /// $XDG_CONFIG_HOME/pkhound/fingerprint-key (~/.config/…), created on first use. Baselines record the
    /// key's id and fail clearly under another key; shards to be merged must share it.
    #[arg(long, value_name = "FILE")]
    pub fingerprint_key_file: Option<PathBuf>,
}

/// Opt-in verification of secrets with their providers: `scan` and `audit`.
#[derive(Clone, Debug, Args)]
pub struct VerifyArgs {
    /// Ask each secret's provider whether it is live (off by default: nothing leaves the machine).
    ///
    /// Only secrets of rules with a verifier (Klaviyo, GitHub, GitLab, Slack, Stripe, SendGrid, OpenAI,
    /// Anthropic), each once (whatever the number of places or repositories holding it), only to its
    /// provider's API host, with read-only GETs. Reports gain `verification`: live, invalid or unknown,
    /// with the reason and, for Klaviyo, the account.
    #[arg(long)]
    pub verify: bool,

    /// With a live Klaviyo key, probe each read scope once (one GET, smallest page) and report which it
    /// holds: what an attacker could read. Write scopes are never tried. Implies --verify.
    #[arg(long)]
    pub blast_radius: bool,

    /// Report only findings whose secret was verified live (needs --verify or --blast-radius).
    #[arg(long)]
    pub only_verified: bool,

    /// Verification requests in flight at most.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub verify_concurrency: u16,

    /// Timeout of each verification request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub verify_timeout: u64,

    /// Time for the whole verification, in seconds; what is not checked by then is reported `unknown`.
    #[arg(long, value_name = "SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub verify_deadline: u64,
}

impl VerifyArgs {
    /// True when secrets are to be sent to their providers (`--verify`, or `--blast-radius`).
    pub fn enabled(&self) -> bool {
        self.verify || self.blast_radius
    }
}

/// `--shard I/N`: share I (0-based) of N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("`{s}` is not a shard: use I/N with 0 <= I < N (e.g. 0/4)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let index: u32 = i.trim().parse().map_err(|_| bad())?;
    let count: u32 = n.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

fn parse_since(s: &str) -> Result<i64, String> {
    crate::source::git::parse_date(s)
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub action: Option<RulesAction>,

    /// Listing format.
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,

    /// List the rules a scan with this config would run (built-ins merged with the config's rules).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// Show one rule in full: description, severity, keywords, regex, filters, examples, verifier,
    /// remediation and references.
    Show {
        /// The rule id (`pkhound rules` lists them).
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Validate rules or config files: every regex compiles, every example behaves through the real engine,
    /// every positive example contains a keyword. Prints one line per problem; exit 1 if any.
    Check {
        /// Rule files, `.pkhound.toml` configs or gitleaks configs.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// One line per rule, grouped by category.
    Text,
    Json,
    /// The catalogue as Markdown tables, one per category (what `docs/rules.md` holds).
    Markdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `100M` → 104857600. Plain numbers are bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: u64 = match c.to_ascii_uppercase() {
                'B' => 1,
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix `{c}` (use K, M or G)")),
            };
            (&t[..i], mult)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 512K, 100M, 1G)"))?;
    n.checked_mul(mult).ok_or_else(|| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("17"), Ok(17));
        assert!(parse_size("1X").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("99999999999G").is_err());
    }

    #[test]
    fn shards() {
        assert_eq!(parse_shard("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(parse_shard("3/4"), Ok(Shard { index: 3, count: 4 }));
        for bad in ["4/4", "1/0", "x/2", "2", "-1/3", "1/"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
