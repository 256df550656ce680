//! The compiled matcher: one keyword pass over every rule's keywords (a [`literals::Literals`] set, or
//! an Aho-Corasick DFA once a scan is large, copied into a flat table walked in lanes: [`KeywordDfa`]), then each triggered rule's regex on merged windows around its
//! keyword hits, then the secret filters.
//!
//! The engine takes `&[u8]` and returns secret spans. It never sees a path, a commit or a writer; line and
//! column are computed later, and only for matches.

mod check;
mod examples;
mod filter;
pub mod literals;
mod near;
mod tails;
pub use near::{Wide, ALL_WIDE};
mod walk;

use std::collections::hash_map::{Entry, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use literals::Literals;
use regex::bytes::{Regex, RegexBuilder};
use regex_automata::util::captures::Captures;
use regex_automata::Input;
use thiserror::Error;

use crate::finding::{RuleId, RuleInfo};
use crate::rules::{Check, LoadedRule, Text};

pub use examples::{check_examples, ExampleProblem};
pub use filter::{is_placeholder, shannon_entropy};
pub use walk::KeywordDfa;

/// A rule that could not be compiled; names the file, the rule and the field.
#[derive(Clone, Debug, Error)]
pub enum EngineError {
    #[error("{file}: rule `{rule}`: {field}: {message}")]
    Regex {
        file: String,
        rule: String,
        field: &'static str,
        message: String,
    },
    #[error("keyword automaton: {0}")]
    Automaton(String),
}

/// A rule ready to run. Its spec is read and its regexes compile on first use (a keyword hit, or
/// [`Engine::prepare`]), so start-up costs the keyword automaton only, whatever the number of rules.
pub struct CompiledRule {
    /// The rule's index in `sources`.
    idx: usize,
    sources: Arc<Sources>,
    /// What the engine reads of the rule's spec, read the first time something asks (its keyword woke
    /// it, a report or listing); [`CompiledRule`] dereferences to it. Until then a built-in rule's spec
    /// stays in the baked tree: a pre-commit hook wakes a handful of the hundreds of rules.
    /// Boxed: the engine's list of rules is written at every start, and most rules are never read.
    data: OnceLock<Box<RuleData>>,
    /// Boxed: most rules never compile, and an inline `Matcher` made every rule half a kilobyte larger
    /// (page faults at start-up, hundreds of rules).
    matcher: OnceLock<Box<Result<Matcher, EngineError>>>,
    /// Whether the secret ends in a fixed-count run (`[0-9a-f]{34}`); computed the first time a binary
    /// file glues a match on its right (see [`CompiledRule::accepts`]).
    fixed_end: OnceLock<bool>,
}

/// The rules each keyword pattern wakes, in rule order: one list for all patterns (`rules`), pattern `p`'s
/// from `starts[p]` to `starts[p + 1]`, instead of a list of its own per pattern (thousands of small
/// allocations at every start).
#[derive(Debug, Default)]
struct PatternRules {
    starts: Vec<u32>,
    rules: Vec<usize>,
}

impl PatternRules {
    /// From `(pattern, rule)` pairs in rule order, for `count` patterns.
    fn new(count: usize, pairs: &[(u32, usize)]) -> PatternRules {
        let mut starts = vec![0u32; count + 1];
        for &(p, _) in pairs {
            starts[p as usize + 1] += 1;
        }
        for p in 1..starts.len() {
            starts[p] += starts[p - 1];
        }
        let mut fill = starts.clone();
        let mut rules = vec![0; pairs.len()];
        for &(p, r) in pairs {
            rules[fill[p as usize] as usize] = r;
            fill[p as usize] += 1;
        }
        PatternRules { starts, rules }
    }

    /// The rules pattern `p` wakes; `None` for a pattern past the keywords (a decoder's).
    fn get(&self, p: usize) -> Option<&[usize]> {
        let (&from, &to) = (self.starts.get(p)?, self.starts.get(p + 1)?);
        self.rules.get(from as usize..to as usize)
    }
}

impl std::ops::Index<usize> for PatternRules {
    type Output = [usize];

    fn index(&self, p: usize) -> &[usize] {
        self.get(p).unwrap_or(&[])
    }
}

/// The rules an engine was compiled from, which its rules read their specs from when first asked.
struct Sources {
    rules: Vec<LoadedRule>,
    /// Rule id -> the first rule of that id (as a scan of the list finds it), for `supersedes`; built
    /// when a rule that supersedes others is first read.
    by_id: OnceLock<HashMap<Box<str>, usize>>,
}

impl Sources {
    fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id
            .get_or_init(|| {
                let mut by_id = HashMap::with_capacity(self.rules.len());
                for (idx, r) in self.rules.iter().enumerate() {
                    by_id.entry(r.spec.id().into()).or_insert(idx);
                }
                by_id
            })
            .get(id)
            .copied()
    }
}

impl std::ops::Deref for CompiledRule {
    type Target = RuleData;

    fn deref(&self) -> &RuleData {
        self.data
            .get_or_init(|| Box::new(RuleData::new(&self.sources, self.idx)))
    }
}

impl std::fmt::Debug for CompiledRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledRule")
            .field("id", &self.sources.rules[self.idx].spec.id())
            .field("data", &self.data.get())
            .finish_non_exhaustive()
    }
}

/// A rule's spec as the engine reads it ([`CompiledRule`]'s lazily read half).
#[derive(Debug)]
pub struct RuleData {
    pub info: Arc<RuleInfo>,
    /// Where the rule came from, for errors of its lazy compilation.
    file: Text,
    regex_src: Text,
    secret_group: Option<usize>,
    first_group: bool,
    allow_src: Arc<[Text]>,
    allow_before_src: Arc<[Text]>,
    window: usize,
    min_entropy: Option<f64>,
    /// `min_entropy` is capped at random values' floor (generic rules, and `entropy_floor` rules).
    entropy_floor: bool,
    check: Option<Check>,
    delimited: bool,
    /// The secret is binary data: findings carry its base64 ([`CompiledRule::secret_of`]).
    binary: bool,
    /// Generic rules (tag `generic`) yield to a specific rule that matched the same bytes.
    generic: bool,
    /// A rule of the `generic` category: it knows a credential by where it stands (a curl header, a
    /// `.netrc` line), not by its format, so a rule that knows the format names a match on the same span.
    by_place: bool,
    /// Hand-typed stand-ins (`a1b2c3d4…`) are placeholders to this rule too
    /// ([`crate::rules::RuleSpec::refuses_stand_ins`]).
    refuses_stand_ins: bool,
    /// A built-in rule: see [`Engine::one_per_span`].
    builtin: bool,
    /// The other half of a two-part credential, found near each match.
    pair: Option<crate::rules::PairSpec>,
    /// Rules (by index) whose match on exactly this rule's span yields to this one (`supersedes`).
    supersedes: Vec<usize>,
}

/// The compiled half of a rule: its regex, where its secret is, and its allowlist.
#[derive(Debug)]
struct Matcher {
    /// The regex for unanchored searches. A rule whose matches begin at its keywords searches with
    /// [`Starts`] and builds this only if something else asks (masking, tests): half the start-up cost
    /// of a rule's first hit.
    regex: OnceLock<Option<Tiered>>,
    src: Text,
    /// A byte every match of `regex` holds (the rarest such, [`required_byte`]): a window without it is
    /// not searched.
    needs: Option<u8>,
    /// How far into a match its first `needs` byte can lie at most, when the regex bounds it.
    needs_within: Option<usize>,
    /// A run of bytes of one class every match holds (`[a-f0-9]{64}`, [`required_run`]): a window
    /// without such a run is not searched.
    run: Option<Run>,
    secret: SecretGroup,
    allow: LazyAnyOf,
    /// Regexes over the match before the secret ([`crate::rules::RuleSpec::allow_before`]).
    allow_before: LazyAnyOf,
    /// The `name` capture group, when the regex captures the name a value is assigned to.
    name: Option<usize>,
    /// The pair regex and its `part` group (0: the whole match).
    pair: Option<(Regex, usize)>,
    /// Set when every match begins with one of the rule's keywords ([`keyword_start`]).
    starts: Option<Starts>,
}

/// A rule every match of which begins with one of its keywords (`(?i:sentry)…`, `https?://…`): its regex
/// runs anchored at each keyword in a window, which reads a few bytes past each, instead of searching
/// the whole window, which reads every byte of it and, where keywords are dense (a page of URLs),
/// restarts its automaton at each.
#[derive(Debug)]
struct Starts {
    /// The rule's keywords, to find where a match can begin.
    keywords: Literals,
    /// The same regex, searched anchored (a meta regex takes an anchored search over a span whose
    /// surroundings its assertions still see; `regex::bytes` does not).
    regex: Tiered,
}

/// A rule's regex built twice over: first without the lazy DFA, the one-pass DFA and the prefilter
/// (backtracking and NFA simulation only: a fifth of the build, which a scan that wakes a rule for a
/// few windows, a pre-commit hook's, never recovers; the one-pass DFA alone was a quarter of what
/// remained for rules that are not one-pass, which it finds out only by trying), then, once the rule
/// has searched `LIGHT_SEARCHES` spans or is asked to search one longer than `LIGHT_SPAN`, in full. Both find the same matches (one regex, engines that
/// agree by construction); the full one is faster per byte.
#[derive(Debug)]
struct Tiered {
    /// Built on the first search (or capture slots) asked of the rule: a rule woken by a keyword whose
    /// windows lack what every match needs (`Matcher::may_match`: about half of those an ordinary
    /// commit wakes) never builds it.
    light: OnceLock<Result<regex_automata::meta::Regex, String>>,
    full: OnceLock<Option<regex_automata::meta::Regex>>,
    /// The full build's configuration and source.
    config: regex_automata::meta::Config,
    src: Text,
    /// The parsed source, kept until the full build takes it (parsing again was a third of a generic
    /// rule's full build, which an ordinary commit's hook reaches).
    hir: std::sync::Mutex<Option<Arc<regex_syntax::hir::Hir>>>,
    searches: AtomicUsize,
}

/// Searches a rule makes with its light regex before the full one is built.
const LIGHT_SEARCHES: usize = 4;
/// The longest span the light regex searches: past it the backtracker gives way to NFA simulation,
/// slower than building the full regex would cost.
const LIGHT_SPAN: usize = 4096;

impl Tiered {
    /// `config` is the full build's; the light one is the same without the lazy DFA, the full DFA, the
    /// one-pass DFA and the prefilter. Nothing is built yet ([`Tiered::light`]).
    fn new(hir: Arc<regex_syntax::hir::Hir>, config: regex_automata::meta::Config, src: &Text) -> Tiered {
        Tiered {
            light: OnceLock::new(),
            full: OnceLock::new(),
            config,
            src: src.clone(),
            hir: std::sync::Mutex::new(Some(hir)),
            searches: AtomicUsize::new(0),
        }
    }

    /// The light build, built now if it was not; the error says why it does not build (a size limit).
    fn light(&self) -> Result<&regex_automata::meta::Regex, &str> {
        self.light
            .get_or_init(|| {
                let light = self
                    .config
                    .clone()
                    .hybrid(false)
                    .dfa(false)
                    .onepass(false)
                    .auto_prefilter(false);
                self.build(light, self.hir())
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// The regex built with `config` from `hir`, or from the source when the tree is gone.
    fn build(
        &self,
        config: regex_automata::meta::Config,
        hir: Option<Arc<regex_syntax::hir::Hir>>,
    ) -> Result<regex_automata::meta::Regex, String> {
        let mut builder = regex_automata::meta::Regex::builder();
        builder.syntax(rule_syntax()).configure(config);
        match hir {
            Some(hir) => builder.build_from_hir(&hir),
            None => builder.build(&self.src),
        }
        .map_err(|e| e.to_string())
    }

    /// The parsed source, while the full build has not taken it.
    fn hir(&self) -> Option<Arc<regex_syntax::hir::Hir>> {
        self.hir.lock().ok().and_then(|h| h.clone())
    }

    /// The regex to search a span of `len` bytes with; `None` when not even the light build builds.
    fn get(&self, len: usize) -> Option<&regex_automata::meta::Regex> {
        if let Some(Some(full)) = self.full.get() {
            return Some(full);
        }
        if len > LIGHT_SPAN || self.searches.fetch_add(1, Ordering::Relaxed) >= LIGHT_SEARCHES {
            let full = self.full.get_or_init(|| {
                // The tree is kept while the light build may still need it.
                let hir = match self.light.get() {
                    Some(_) => self.hir.lock().ok().and_then(|mut h| h.take()),
                    None => self.hir(),
                };
                self.build(self.config.clone(), hir).ok()
            });
            // A full build that fails (a size limit the light one passed) leaves the light one.
            if let Some(full) = full {
                return Some(full);
            }
        }
        self.light().ok()
    }

    /// The full build, built now (tests compare the two builds).
    #[cfg(test)]
    fn full(&self) -> Option<&regex_automata::meta::Regex> {
        self.get(LIGHT_SPAN + 1);
        self.full.get().and_then(Option::as_ref)
    }

    /// Capture slots for either build (one regex, the same groups): the full one's when it is built, else
    /// the light one's (built now); `None` when neither builds.
    fn create_captures(&self) -> Option<Captures> {
        match self.full.get() {
            Some(Some(full)) => Some(full.create_captures()),
            _ => self.light().ok().map(regex_automata::meta::Regex::create_captures),
        }
    }

    /// The capture slots kept in `slot` for this regex, made there on first use.
    fn captures_in<'c>(&self, slot: &'c mut Option<Captures>) -> Option<&'c mut Captures> {
        if slot.is_none() {
            *slot = self.create_captures();
        }
        slot.as_mut()
    }
}

/// A rule's `allow` (or `allow_before`) regexes, which refuse a candidate when any of them matches: built
/// as one regex of alternatives (`(?:a)|(?:b)|…`), which builds in about a third of the time thirty
/// separate ones take (the generic rules' lists were most of what an ordinary commit's pre-commit hook
/// spent building regexes) and matches exactly when one of them would. A list holding a verbose-mode
/// flag (`(?x)`, whose `#` comment would swallow the closing parenthesis) or a regex that does not parse
/// alone is kept as separate regexes.
#[derive(Debug)]
struct AnyOf(Vec<Regex>);

impl AnyOf {
    /// The regexes of `sources`; an error names the first one that does not compile.
    fn new(sources: &[Text]) -> Result<AnyOf, String> {
        static VERBOSE: OnceLock<Regex> = OnceLock::new();
        let verbose = VERBOSE.get_or_init(|| Regex::new(r"\(\?[a-zA-Z-]*x").expect("a valid regex"));
        // Each must parse on its own first: `a)|(b` joined would be a valid regex of other alternatives.
        let parses = |a: &Text| regex_syntax::ast::parse::Parser::new().parse(a).is_ok();
        if sources.len() > 1 && sources.iter().all(|a| !verbose.is_match(a.as_bytes()) && parses(a)) {
            let joined = sources.iter().map(|a| format!("(?:{a})")).collect::<Vec<_>>().join("|");
            if let Ok(one) = Regex::new(&joined) {
                return Ok(AnyOf(vec![one]));
            }
        }
        // One by one: a single regex, a verbose one, or a list that failed joined (the error names which).
        sources
            .iter()
            .map(|a| Regex::new(a).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map(AnyOf)
    }

    fn is_match(&self, hay: &[u8]) -> bool {
        self.0.iter().any(|r| r.is_match(hay))
    }
}

/// An [`AnyOf`] built the first time a candidate reaches it. A woken rule's regex mostly finds nothing in
/// a pre-commit hook's lines (replayed ordinary commits reached one allow list in four commits), and the
/// generic rules' lists were a fifth of such a hook's time. A rule from a user's file builds its lists
/// with the rule, so a bad regex there is named when the rule compiles; the built-in rules' lists are
/// compiled by a test.
#[derive(Debug)]
struct LazyAnyOf {
    sources: Arc<[Text]>,
    built: OnceLock<AnyOf>,
}

impl LazyAnyOf {
    /// Built now (`eager`) or on first use.
    fn new(sources: &Arc<[Text]>, eager: bool) -> Result<LazyAnyOf, String> {
        let built = OnceLock::new();
        if eager || sources.is_empty() {
            let _ = built.set(AnyOf::new(sources)?);
        }
        Ok(LazyAnyOf {
            sources: sources.clone(),
            built,
        })
    }

    /// Whether any regex of the list matches, the list built now if it was not. A built-in list that does
    /// not compile (a bug the rules' test catches) refuses nothing.
    fn is_match(&self, hay: &[u8]) -> bool {
        self.built
            .get_or_init(|| AnyOf::new(&self.sources).unwrap_or(AnyOf(Vec::new())))
            .is_match(hay)
    }
}

/// Which part of a regex match is the secret.
#[derive(Clone, Copy, Debug)]
enum SecretGroup {
    /// A numbered group (the named `secret` group resolves to its number).
    Index(usize),
    /// The first capture group that matched something (gitleaks' default).
    FirstNonEmpty,
    /// The whole match.
    Whole,
}

/// A secret found in a blob: the rule's index and the byte span of the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub rule: usize,
    pub start: usize,
    pub end: usize,
    /// The span of the credential's other half (an AWS secret key's access key id), for rules with a
    /// `[rule.pair]` that found it nearby.
    pub partner: Option<(usize, usize)>,
}

/// A pattern a decoder adds to the keyword automaton (the base64 spelling of a keyword): the one prefilter
/// pass then finds encoded secrets too. The engine knows nothing of decoding; it reports where each
/// pattern hit, shifted back by `shift` bytes, under the decoder's number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraPattern {
    pub pattern: crate::rules::Text,
    /// Which decoder asked for it (an index the caller chooses).
    pub decoder: usize,
    /// How many bytes before the hit the reported position is (the start of a base64 quantum).
    pub shift: usize,
    /// Only a hit spelled exactly as the pattern counts (the automaton itself ignores ASCII case, which
    /// suits keywords, but `TRy`, a base64 spelling, is not `try`).
    pub exact_case: bool,
    /// What a blob must hold for the pattern to be worth searching for.
    pub gate: Gate,
    /// An escape that sits inside values (`\/`, `&amp;`), not a keyword's spelling: a hit counts only in a
    /// run of secret-like value characters around it ([`secret_like_run`]), so that a page's `&amp;` or a
    /// regex's `\/` neither wakes a decoder nor makes a blob noisy for a history scan's deltas.
    pub in_value: bool,
}

/// How far either side of an in-value escape [`secret_like_run`] reads.
pub const IN_VALUE_REACH: usize = 128;
/// The shortest run of value characters that makes an in-value escape worth decoding.
const MIN_ESCAPED_RUN: usize = 16;

/// Whether the escape at `at` sits in a run of value characters (escapes read as part of it) at least
/// 16 long that mixes digits, capitals and small letters, as generated keys and chosen passwords do: a
/// JavaScript regex's `\/\/`, a PHP URL's `https:\/\/example.com` or a page's `?a=1&amp;b=2` does not.
/// Reads at most [`IN_VALUE_REACH`] bytes each way (a megabyte of minified text is one run).
pub fn secret_like_run(hay: &[u8], at: usize) -> bool {
    // `;` ends a character reference (`&amp;`) inside the value.
    let value = |b: u8| b.is_ascii_alphanumeric() || b"+/=_.~!@#$%^&*?:;\\-".contains(&b);
    let at = at.min(hay.len());
    let lo = at.saturating_sub(IN_VALUE_REACH);
    let hi = at.saturating_add(IN_VALUE_REACH).min(hay.len());
    let start = hay[lo..at].iter().rposition(|&b| !value(b)).map_or(lo, |i| lo + i + 1);
    let end = hay[at..hi].iter().position(|&b| !value(b)).map_or(hi, |i| at + i);
    let run = &hay[start..end];
    run.len() >= MIN_ESCAPED_RUN
        && run.iter().any(u8::is_ascii_digit)
        && run.iter().any(u8::is_ascii_uppercase)
        && run.iter().any(u8::is_ascii_lowercase)
}

/// What a blob must hold before a group of decoder patterns is searched in it. Until the engine has
/// scanned enough bytes to build its DFA, each group has its own automaton, built on the first blob that
/// passes its gate: a pre-commit hook's few clean lines never pay for thousands of encoded spellings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gate {
    /// A run of at least `MIN_BASE64_RUN` base64 characters (a base64 spelling decodes only inside one).
    Base64Run,
    /// A `%`, `\` or `&` byte: every escaped spelling (`%70`, `\x70`, `&#112;`) holds one.
    Escape,
    /// A run of at least `MIN_LONG_BASE64_RUN` base64 characters: what base64 of a whole escaped key
    /// needs (its many patterns stay out of a pre-commit hook's ordinary lines).
    LongBase64Run,
}

impl Gate {
    const ALL: [Gate; 3] = [Gate::Base64Run, Gate::Escape, Gate::LongBase64Run];

    fn index(self) -> usize {
        match self {
            Gate::Base64Run => 0,
            Gate::Escape => 1,
            Gate::LongBase64Run => 2,
        }
    }

    /// Whether `hay` can hold a hit of this gate's patterns that leads anywhere.
    fn opens(self, hay: &[u8]) -> bool {
        match self {
            Gate::Escape => memchr::memchr3(b'%', b'\\', b'&', hay).is_some(),
            Gate::Base64Run | Gate::LongBase64Run => {
                let min = if self == Gate::Base64Run {
                    MIN_BASE64_RUN
                } else {
                    MIN_LONG_BASE64_RUN
                };
                let mut run = 0;
                for &b in hay {
                    if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_') {
                        run += 1;
                        if run >= min {
                            return true;
                        }
                    } else {
                        run = 0;
                    }
                }
                false
            }
        }
    }
}

/// The shortest base64 run the base64 decoder decodes (`decode::base64::MIN_RUN`).
pub const MIN_BASE64_RUN: usize = 16;
/// A base64 run this long can spell an escaped key (base64 of `%70k_` and 34 hex digits is 52
/// characters); ordinary identifiers and hashes of a commit's lines are shorter.
pub const MIN_LONG_BASE64_RUN: usize = 48;

/// Decoder patterns, computed on demand for one gate (the caller's decoders know how).
pub type ExtraSource = Arc<dyn Fn(Gate) -> Vec<ExtraPattern> + Send + Sync>;

/// One gate's decoder patterns and their literal set.
struct ExtraSet {
    patterns: Vec<ExtraPattern>,
    set: Literals,
}

/// Where an [`ExtraPattern`] hit: its decoder and the (shifted) position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DecoderHit {
    pub decoder: usize,
    pub at: usize,
}

/// Per-thread working memory, reused across blobs so the hot loop does not allocate per file.
pub struct Scratch {
    /// Merged regex windows per rule, as byte ranges of the blob.
    windows: Vec<Vec<(usize, usize)>>,
    /// Rules with at least one window in the current blob.
    touched: Vec<usize>,
    /// Per rule, its unanchored regex's captures, made on the rule's first window in this thread (its
    /// regex compiles lazily).
    locs: Vec<Option<Captures>>,
    /// Per rule with [`Starts`], its anchored regex's captures, made on first use in this thread.
    caps: Vec<Option<Captures>>,
    /// Where a [`Starts`] rule's keywords begin in the window at hand.
    starts: Vec<(usize, usize)>,
    /// Which wider tiers' keywords (rules with wide windows) a blob scanned since [`Scratch::take_wide`]
    /// may hold: see [`Engine::scan_near`]'s `base_wide`.
    wide: near::Wide,
    /// `hits` holds every keyword hit lying wholly in the windows being run (a whole scan's pass, or a
    /// scan around edits' known hits, searched over its anchored rules' windows), so a [`Starts`] rule
    /// takes its keywords' places from it instead of searching again.
    hits_whole: bool,
    matches: Vec<Match>,
    /// Hits of decoder patterns (unsorted; may repeat).
    decoder_hits: Vec<DecoderHit>,
    /// The keyword pass's hits, `(start, pattern)`, reused across blobs.
    hits: Vec<(usize, usize)>,
    /// The DFA walk's later lanes' hits, before they join `hits`.
    lane_hits: [Vec<(usize, usize)>; 3],
    /// The blob is a binary file scanned as bytes (see [`Scratch::set_binary`]).
    binary: bool,
    /// The path-gated rules whose gate the blob's path opens ([`Engine::set_path`]).
    path_on: Vec<usize>,
    /// The blob with its quotes unescaped, when it has escaped ones ([`filter::unescaped_quotes`]).
    unescaped: Vec<u8>,
    /// Working memory for [`Engine::claim`]'s scans of one assignment, made on first need; `None` inside
    /// such a scan, which claims nothing itself.
    claims: Option<Box<Scratch>>,
    /// This scratch serves [`Engine::claim`]: its scans do not claim in turn.
    claiming: bool,
    /// The generic candidates of the scan at hand that a specific rule claimed, under that rule.
    claimed: Vec<Match>,
    /// Spans of the scan at hand that a rule with a format check refused as never issued
    /// ([`Verdict::Forged`]); a generic or place rule's match on exactly such a span is dropped.
    forged: Vec<(usize, usize)>,
}

impl Scratch {
    /// Says whether the next scans are of a binary file's bytes. There a string's left neighbour is
    /// often a length or type byte that happens to be a letter (a SQLite record's serial type `W` before
    /// a 37-byte text, or the previous column's value): a secret that starts with its rule's token prefix
    /// (`pk_`, which anchors where it starts; not a letters-only one such as `AKIA`) is then not "glued"
    /// on its left. Its right side is judged as in text.
    pub fn set_binary(&mut self, binary: bool) {
        self.binary = binary;
    }

    /// The matches of the last scan.
    pub fn matches(&self) -> &[Match] {
        &self.matches
    }

    /// Keeps only the matches and decoder hits of the last scan that start in `from..to` (a window of a
    /// streamed source reports only its own part).
    pub fn keep_within(&mut self, from: usize, to: usize) {
        self.matches.retain(|m| from <= m.start && m.start < to);
        self.decoder_hits.retain(|h| from <= h.at && h.at < to);
    }

    /// Where the last scan saw decoder patterns (unsorted; may repeat).
    pub fn decoder_hits(&self) -> &[DecoderHit] {
        &self.decoder_hits
    }

    /// Takes the decoder hits out, so the caller can scan decoded bytes with this scratch meanwhile.
    pub fn take_decoder_hits(&mut self) -> Vec<DecoderHit> {
        std::mem::take(&mut self.decoder_hits)
    }
}

/// All rules, compiled together.
pub struct Engine {
    rules: Vec<CompiledRule>,
    /// The keywords as a literal set: built in microseconds (an Aho-Corasick NFA over them took
    /// milliseconds, most of a pre-commit hook's start-up) and searched about as fast as the DFA.
    keywords: Literals,
    /// Keywords and every decoder pattern as a DFA, built once this engine has scanned `DFA_AFTER` bytes:
    /// a large scan amortises its build. Pattern ids: `keywords`', then the decoders' from `extra_from`.
    dfa: OnceLock<Result<KeywordDfa, EngineError>>,
    /// Bytes scanned so far, to decide when the DFA pays.
    scanned: AtomicUsize,
    /// A thread has taken the DFA's build: the others scan on with the literal sets meanwhile.
    building: std::sync::atomic::AtomicBool,
    /// The automaton's patterns, kept for the DFA build.
    patterns: Vec<String>,
    /// For each automaton pattern, the rules that listed it as a keyword.
    pattern_rules: PatternRules,
    /// Rules with no keywords (imported gitleaks rules whose regex yields no literal): their regex runs
    /// over the whole blob. Correct but costly: one full regex pass per blob per such rule.
    always: Vec<usize>,
    /// Rules that run only on files whose path their regex matches (`path`), with that regex; see
    /// [`Engine::set_path`].
    path_gates: Vec<PathGate>,
    /// Per rule: it has a path gate.
    gated: Vec<bool>,
    /// Automaton patterns from this index on are decoders' patterns (in the DFA; the NFA holds only
    /// keywords).
    extra_from: usize,
    /// Where the decoders' patterns come from, and each gate's, once needed.
    extra_source: Option<ExtraSource>,
    extra_sets: [OnceLock<Result<ExtraSet, EngineError>>; 3],
    /// The DFA's decoder patterns (every gate's, in order), from `extra_from` on.
    dfa_extra: OnceLock<Vec<ExtraPattern>>,
    /// Set by [`Engine::expect_large`]: one literal set over keywords and every decoder pattern (the DFA's
    /// pattern ids) serves until the DFA, instead of the gated sets, so a tree scan makes one pass per blob.
    eager: std::sync::atomic::AtomicBool,
    full: OnceLock<Literals>,
    /// Rules that report findings. Inactive rules (`--only`, `--skip`, disabled by a config) still find
    /// candidates, so that a snippet never shows their secrets in clear.
    active: Vec<bool>,
    /// How far from an edit each pattern's hit can matter (`near.rs`), computed on first use.
    reach: OnceLock<Option<near::Reach>>,
}

impl Engine {
    /// Builds the keyword automaton over `rules`, with no decoder patterns. Their regexes compile later, on
    /// each rule's first keyword hit; call [`Engine::prepare`] to compile (and so validate) some or all of
    /// them now. Automaton errors are reported here; nothing here reads input.
    pub fn compile(rules: &[LoadedRule]) -> Result<Engine, EngineError> {
        Engine::compile_with(rules, &[])
    }

    /// Compiles rules, adding decoders' patterns to the keyword automaton. Nothing here reads input.
    pub fn compile_with(rules: &[LoadedRule], extra: &[ExtraPattern]) -> Result<Engine, EngineError> {
        let extra = extra.to_vec();
        let source: ExtraSource = Arc::new(move |gate| extra.iter().filter(|e| e.gate == gate).cloned().collect());
        Engine::compile_lazy(rules, Some(source))
    }

    /// Compiles rules; decoders' patterns come from `extra` when a blob first needs them (see [`Gate`]).
    pub fn compile_lazy(rules: &[LoadedRule], extra: Option<ExtraSource>) -> Result<Engine, EngineError> {
        let mut patterns: Vec<String> = Vec::new();
        // (pattern, rule) for each keyword of each rule, in rule order.
        let mut woken: Vec<(u32, usize)> = Vec::new();
        let mut always = Vec::new();
        let mut path_gates = Vec::new();
        let mut gated = Vec::with_capacity(rules.len());
        // Keyword (lowercased; most are written so, and are borrowed) -> its index in `patterns`.
        let mut index: HashMap<std::borrow::Cow<'_, str>, usize> = HashMap::with_capacity(rules.len() * 2);
        // Only a rule's id, keywords and path are read here: a built-in rule's spec is read in full when the
        // rule is first woken.
        for (idx, loaded) in rules.iter().enumerate() {
            let spec = &loaded.spec;
            gated.push(spec.path().is_some());
            if let Some(path) = spec.path() {
                path_gates.push(PathGate {
                    rule: idx,
                    src: path.to_string(),
                    tails: OnceLock::new(),
                    regex: OnceLock::new(),
                });
            } else if spec.keywords().is_empty() {
                always.push(idx);
            }
            for kw in spec.keywords().iter() {
                let kw = if kw.bytes().any(|b| b.is_ascii_uppercase()) {
                    std::borrow::Cow::Owned(kw.to_ascii_lowercase())
                } else {
                    std::borrow::Cow::Borrowed(kw.as_str())
                };
                let p = match index.entry(kw) {
                    Entry::Occupied(p) => *p.get(),
                    Entry::Vacant(v) => {
                        patterns.push(v.key().to_string());
                        *v.insert(patterns.len() - 1)
                    }
                };
                woken.push((u32::try_from(p).expect("fewer than 2^32 keywords"), idx));
            }
        }
        let pattern_rules = PatternRules::new(patterns.len(), &woken);
        let sources = Arc::new(Sources {
            rules: rules.to_vec(),
            by_id: OnceLock::new(),
        });
        let compiled = (0..rules.len())
            .map(|idx| CompiledRule {
                idx,
                sources: sources.clone(),
                data: OnceLock::new(),
                matcher: OnceLock::new(),
                fixed_end: OnceLock::new(),
            })
            .collect();
        // Decoders' patterns join the keywords in the DFA (one prefilter pass for large scans); before
        // that, each gate's patterns get their own automaton, built when a blob first opens the gate.
        let extra_from = patterns.len();
        let keywords = Literals::new(&patterns);
        Ok(Engine {
            rules: compiled,
            keywords,
            dfa: OnceLock::new(),
            scanned: AtomicUsize::new(0),
            building: std::sync::atomic::AtomicBool::new(false),
            patterns,
            pattern_rules,
            always,
            gated,
            path_gates,
            extra_from,
            extra_source: extra,
            extra_sets: [OnceLock::new(), OnceLock::new(), OnceLock::new()],
            dfa_extra: OnceLock::new(),
            eager: std::sync::atomic::AtomicBool::new(false),
            full: OnceLock::new(),
            active: vec![true; rules.len()],
            reach: OnceLock::new(),
        })
    }

    /// The DFA over keywords and every decoder pattern, once this engine has scanned `DFA_AFTER` bytes;
    /// `None` before (the keyword NFA and the gated decoder automata serve).
    fn dfa(&self, len: usize) -> Option<&KeywordDfa> {
        if let Some(Ok(dfa)) = self.dfa.get() {
            return Some(dfa);
        }
        if self.scanned.fetch_add(len, Ordering::Relaxed) < DFA_AFTER {
            return None;
        }
        // One thread builds it (tens of milliseconds); the others do not wait for it but go on with the
        // literal sets, which find the same hits.
        if self.building.swap(true, Ordering::AcqRel) {
            return None;
        }
        let built = self.dfa.get_or_init(|| KeywordDfa::new(&self.all_patterns()));
        // A DFA can only fail on a size limit; the NFAs hold the same patterns.
        built.as_ref().ok()
    }

    /// Builds the keyword DFA (and what a scan around an edit needs of it) now, on this thread, unless
    /// another thread has begun it: a history scan calls it on a thread of its own while the commit
    /// walk, which uses one core, goes on, so the tens of milliseconds of the build come off the scan.
    /// Scans meanwhile go on with the literal sets, as while any thread builds it.
    pub fn build_dfa(&self) {
        if self.building.swap(true, Ordering::AcqRel) {
            return;
        }
        self.dfa.get_or_init(|| KeywordDfa::new(&self.all_patterns()));
        self.reach();
    }

    /// Keywords, then every decoder pattern: the DFA's (and the eager NFA's) patterns.
    fn all_patterns(&self) -> Vec<&str> {
        // A gate's patterns from its set when one was built, else from the source: building the gated
        // sets here only to read their patterns doubled the cost of a staged scan's full set.
        let extra = self.dfa_extra.get_or_init(|| {
            Gate::ALL
                .iter()
                .flat_map(|&g| match self.extra_sets[g.index()].get() {
                    Some(Ok(set)) => set.patterns.clone(),
                    _ => self.extra_source.as_ref().map(|source| source(g)).unwrap_or_default(),
                })
                .collect()
        });
        let mut patterns: Vec<&str> = self.patterns.iter().map(String::as_str).collect();
        patterns.extend(extra.iter().map(|e| e.pattern.as_str()));
        patterns
    }

    /// Declares a large scan (a tree walk): until the DFA, one NFA over keywords and every decoder
    /// pattern serves, one pass per blob, as the DFA will. Small scans (a staged change) leave it: their
    /// decoder automata are built only for blobs that need them.
    pub fn expect_large(&self) {
        self.eager.store(true, Ordering::Relaxed);
    }

    /// Keywords and every decoder pattern as one literal set (the DFA's pattern ids).
    fn full(&self) -> &Literals {
        self.full.get_or_init(|| Literals::new(self.all_patterns()))
    }

    /// `gate`'s decoder patterns and their literal set, computed on the first call; `None` without
    /// decoders.
    fn extra_set(&self, gate: Gate) -> Option<&ExtraSet> {
        let source = self.extra_source.as_ref()?;
        let set = self.extra_sets[gate.index()].get_or_init(|| {
            let patterns = source(gate);
            let set = Literals::new(patterns.iter().map(|e| e.pattern.as_bytes()));
            Ok(ExtraSet { patterns, set })
        });
        set.as_ref().ok()
    }

    /// Opens (or widens) the windows of the rules whose keyword `p` hit at `start..end`, or records the hit
    /// of a decoder pattern (`p` from `extra_from` on).
    fn keyword_hit(&self, hay: &[u8], p: usize, start: usize, end: usize, scratch: &mut Scratch) {
        if let Some(i) = p.checked_sub(self.extra_from) {
            if let Some(e) = self.dfa_extra.get().and_then(|x| x.get(i)) {
                Engine::decoder_hit(e, hay, start, end, &mut scratch.decoder_hits);
            }
            return;
        }
        for &r in &self.pattern_rules[p] {
            if !self.active[r] {
                continue;
            }
            let w = self.rules[r].window;
            let start = start.saturating_sub(w);
            let end = end.saturating_add(w).min(hay.len());
            let windows = &mut scratch.windows[r];
            match windows.last_mut() {
                // Hits of the DFA come in order of where they end: a longer one can start earlier.
                Some(last) if start <= last.1 => *last = (last.0.min(start), last.1.max(end)),
                Some(_) => windows.push((start, end)),
                None => {
                    scratch.touched.push(r);
                    windows.push((start, end));
                }
            }
        }
    }

    /// Records a decoder pattern's hit, unless its case differs where case matters.
    fn decoder_hit(e: &ExtraPattern, hay: &[u8], start: usize, end: usize, hits: &mut Vec<DecoderHit>) {
        // The automaton ignores ASCII case; an encoding does not (`TRy`, an encoding, is not `try`).
        if e.exact_case && hay.get(start..end) != Some(e.pattern.as_bytes()) {
            return;
        }
        if e.in_value && !secret_like_run(hay, start) {
            return;
        }
        if let Some(at) = start.checked_sub(e.shift) {
            hits.push(DecoderHit { decoder: e.decoder, at });
        }
    }

    /// Compiles the regexes of the rules at `which` (indices into the list `compile` was given) now, and
    /// returns the first error. Rules whose regexes nobody has checked (a user's config, an imported gitleaks
    /// config, `rules check`) go through here, so that a bad regex is an error at load, not a rule that
    /// silently never matches. Built-in rules are checked by the rule-example test.
    pub fn prepare(&self, which: impl IntoIterator<Item = usize>) -> Result<(), EngineError> {
        for idx in which {
            if let Some(rule) = self.rules.get(idx) {
                if let Err(e) = rule.matcher() {
                    return Err(e.clone());
                }
            }
            if let Some(gate) = self.path_gates.iter().find(|g| g.rule == idx) {
                if let Err(message) = gate.regex() {
                    return Err(EngineError::Regex {
                        file: self.rules[idx].file.to_string(),
                        rule: self.rules[idx].info.id.as_str().to_string(),
                        field: "path",
                        message: message.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Every rule, active or not.
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// The rules that report findings.
    pub fn active_rules(&self) -> impl Iterator<Item = &CompiledRule> {
        self.rules.iter().zip(&self.active).filter(|(_, a)| **a).map(|(r, _)| r)
    }

    /// Keeps reporting only the rules whose id `keep` is true for; the others still mask their candidates.
    pub fn retain_active(&mut self, keep: impl Fn(&str) -> bool) {
        for (rule, active) in self.rules.iter().zip(self.active.iter_mut()) {
            *active = *active && keep(rule.sources.rules[rule.idx].spec.id());
        }
    }

    /// Whether rule `rule` supersedes the rule with id `id` (see [`crate::rules::RuleSpec::supersedes`]).
    pub fn supersedes(&self, rule: usize, id: &str) -> bool {
        self.rules[rule]
            .supersedes
            .iter()
            .any(|&i| self.rules[i].info.id.as_str() == id)
    }

    pub fn rule(&self, idx: usize) -> &CompiledRule {
        &self.rules[idx]
    }

    /// The specific (not generic) rule that takes `value` as its secret when it is assigned to `name`
    /// (`name = "value"`), if any: what a generic rule's candidate is when the text spells the assignment
    /// in a way that rule's regex does not read (a Kubernetes `env` entry's `name:` above its `value:`,
    /// Ruby's `ENV["X"] ||= "…"`, `<add key="X" value="…" />`, a YAML block scalar). That rule's own
    /// regex and filters decide; the name only stands where its context would. `scratch` is working
    /// memory for that scan alone.
    fn claim(&self, name: &str, value: &[u8], scratch: &mut Scratch) -> Option<usize> {
        let mut text = Vec::with_capacity(name.len() + value.len() + 6);
        text.extend_from_slice(name.as_bytes());
        text.extend_from_slice(b" = \"");
        let start = text.len();
        text.extend_from_slice(value);
        let end = text.len();
        text.extend_from_slice(b"\"\n");
        scratch.claiming = true;
        self.scan(&text, scratch)
            .iter()
            .find(|m| (m.start, m.end) == (start, end) && !self.rules[m.rule].generic)
            .map(|m| m.rule)
    }

    /// [`Engine::claim`] for `value` at `start..end` of `hay`, named by the text before it.
    /// The name is read from `text` (the blob, or its view with plain quotes), the value from `hay`.
    fn claim_at(
        &self,
        text: &[u8],
        hay: &[u8],
        (start, end): (usize, usize),
        scratch: &mut Option<Box<Scratch>>,
    ) -> Option<usize> {
        let line_start = memchr::memrchr(b'\n', &text[..start]).map_or(0, |i| i + 1);
        let name = crate::locate::variable_at(text, line_start, start)?;
        let scratch = scratch.get_or_insert_with(|| Box::new(self.scratch()));
        let specific = self.claim(&name, &hay[start..end], scratch)?;
        // The claiming rule's filters judge the candidate where it stands too: a generic rule's value
        // cut short inside a longer token is no whole secret of the specific rule.
        let rule = &self.rules[specific];
        let binary = false;
        rule.matcher()
            .as_ref()
            .is_ok_and(|m| rule.judge(m, hay, start, end, binary) == Verdict::Accepted)
            .then_some(specific)
    }

    /// Fresh working memory for one thread.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            windows: vec![Vec::new(); self.rules.len()],
            touched: Vec::new(),
            locs: (0..self.rules.len()).map(|_| None).collect(),
            caps: (0..self.rules.len()).map(|_| None).collect(),
            starts: Vec::new(),
            hits_whole: false,
            wide: 0,
            matches: Vec::new(),
            decoder_hits: Vec::new(),
            hits: Vec::new(),
            lane_hits: Default::default(),
            binary: false,
            path_on: Vec::new(),
            unescaped: Vec::new(),
            claims: None,
            claiming: false,
            claimed: Vec::new(),
            forged: Vec::new(),
        }
    }

    /// Names the file the next scans in `scratch` read (`/`-separated, as every source names files): a rule
    /// with a `path` runs only where its regex matches `path` (a scratch never told a path runs none of
    /// them). True when some gate opened.
    pub fn set_path(&self, scratch: &mut Scratch, path: &str) -> bool {
        scratch.path_on.clear();
        for gate in &self.path_gates {
            if gate.opens(path) {
                scratch.path_on.push(gate.rule);
            }
        }
        !scratch.path_on.is_empty()
    }

    /// True when some rule's path gate opens for `path`.
    pub fn gates_open(&self, path: &str) -> bool {
        self.path_gates.iter().any(|gate| gate.opens(path))
    }

    /// Whether the rule with `id` may report at `path`: true unless it has a path gate that `path` does
    /// not open. A source that scans one blob for many paths (history: a blob once, at every place it
    /// sat) keeps a gated rule's finding only at the paths its gate opens.
    pub fn reports_at(&self, id: &str, path: &str) -> bool {
        self.path_gates
            .iter()
            .all(|gate| self.rules[gate.rule].info.id.as_str() != id || gate.opens(path))
    }

    /// Finds every secret in `hay`, sorted by position. The slice lives in `scratch` until the next call.
    pub fn scan<'s>(&self, hay: &[u8], scratch: &'s mut Scratch) -> &'s [Match] {
        for &r in &scratch.touched {
            scratch.windows[r].clear();
        }
        scratch.touched.clear();
        scratch.matches.clear();
        scratch.decoder_hits.clear();

        if let Some(dfa) = self.dfa(hay.len()) {
            let mut hits = std::mem::take(&mut scratch.hits);
            hits.clear();
            dfa.find_in_order(hay, &mut hits, &mut scratch.lane_hits);
            for &(start, p) in &hits {
                let len = dfa.pattern_len(p);
                self.keyword_hit(hay, p, start, start + len, scratch);
            }
            scratch.hits = hits;
        } else {
            let mut hits = std::mem::take(&mut scratch.hits);
            hits.clear();
            if self.eager.load(Ordering::Relaxed) {
                self.full().find_all(hay, &mut hits);
            } else {
                self.keywords.find_all(hay, &mut hits);
                for gate in Gate::ALL {
                    if self.extra_source.is_none() || !gate.opens(hay) {
                        continue;
                    }
                    let Some(ExtraSet { patterns, set }) = self.extra_set(gate) else {
                        continue;
                    };
                    let mut found = Vec::new();
                    set.find_all(hay, &mut found);
                    for (start, i) in found {
                        let e = &patterns[i];
                        Engine::decoder_hit(e, hay, start, start + e.pattern.len(), &mut scratch.decoder_hits);
                    }
                }
            }
            let full = self.full.get();
            for &(start, p) in &hits {
                let len = match p.checked_sub(self.extra_from) {
                    None => self.keywords.pattern(p).len(),
                    Some(_) => full.map_or(0, |f| f.pattern(p).len()),
                };
                self.keyword_hit(hay, p, start, start + len, scratch);
            }
            scratch.hits = hits;
        }

        if !hay.is_empty() {
            for &r in self.always.iter().filter(|&&r| self.active[r]) {
                scratch.windows[r].push((0, hay.len()));
                scratch.touched.push(r);
            }
            // A path-gated rule without keywords reads the whole file its gate opened for.
            for i in 0..scratch.path_on.len() {
                let r = scratch.path_on[i];
                if self.active[r] && self.rules[r].info.keywords.is_empty() && scratch.windows[r].is_empty() {
                    scratch.windows[r].push((0, hay.len()));
                    scratch.touched.push(r);
                }
            }
        }
        scratch.hits_whole = true;
        scratch.wide |= match self.reach.get() {
            Some(Some(reach)) => scratch.hits.iter().fold(0, |m, &(_, p)| m | reach.wide(p)),
            _ => near::ALL_WIDE,
        };
        self.run_windows(hay, scratch)
    }

    /// The rules' half of a scan: each touched rule's regex over its windows in `scratch` (merged first
    /// where hits came out of order), the filters, then generic overlaps and pairs. [`Engine::scan`]
    /// and [`Engine::scan_near`] fill the windows.
    fn run_windows<'s>(&self, hay: &[u8], scratch: &'s mut Scratch) -> &'s [Match] {
        let binary = scratch.binary;
        for &r in &scratch.touched {
            merge_windows(&mut scratch.windows[r]);
        }
        // Code inside a string (a notebook's cells, a script in JSON) spells its quotes `\"`: the
        // regexes read a copy where they are plain quotes, at the same offsets; the filters and the
        // finding read the blob itself.
        let mut unescaped = std::mem::take(&mut scratch.unescaped);
        let (lo, hi) = scratch
            .touched
            .iter()
            .flat_map(|&r| &scratch.windows[r])
            .fold((usize::MAX, 0), |(lo, hi), &(ws, we)| (lo.min(ws), hi.max(we)));
        let escaped = !binary
            && lo < hi
            && filter::has_escaped_quote(&hay[lo..hi])
            && filter::unescaped_quotes(hay, &mut unescaped);
        let text: &[u8] = if escaped { &unescaped } else { hay };
        scratch.forged.clear();
        for &r in &scratch.touched {
            if self.gated[r] && !scratch.path_on.contains(&r) {
                continue;
            }
            let rule = &self.rules[r];
            // A rule whose regex does not compile has no matches; such a rule never reaches a scan, because
            // non-built-in rules go through `prepare` at load and built-in ones through the example test.
            let Ok(matcher) = rule.matcher() else {
                continue;
            };
            // Keeps the match when the rule's filters accept its secret; says whether it did. A generic
            // rule's candidate whose assigned name a specific rule reads as its own context is that
            // rule's, asked before the generic rule's judgement of the value: a UUID or a hex digest is
            // no generic secret, yet it is npm's or New Relic's key when their name says so.
            let claims = !binary && rule.generic && !scratch.claiming;
            let mut take =
                |ws: usize, window: &[u8], from: usize, (s, e): (usize, usize), name: Option<(usize, usize)>| {
                    // What the match says before the secret may name a public value of the same format.
                    if matcher.allow_before.is_match(&window[from.min(s)..s]) {
                        return false;
                    }
                    // A CSV file's header: the cells under its password columns are the candidates.
                    if rule.check == Some(Check::CsvPasswordColumn) {
                        let mut kept = false;
                        for (start, end) in filter::csv_password_cells(text, ws + s, ws + e) {
                            if rule.judge(matcher, hay, start, end, binary) == Verdict::Accepted {
                                scratch.matches.push(Match {
                                    rule: r,
                                    start,
                                    end,
                                    partner: None,
                                });
                                kept = true;
                            }
                        }
                        return kept;
                    }
                    // A value whose first characters are outside the value alphabet is taken with its
                    // quotes, or to the end of a setting's line ([`filter::unquoted`]).
                    let (s, e) = match rule.generic {
                        // Read in the whole text: a setting's line may start before the window.
                        true => match filter::unquoted(text, ws + s, ws + e, name.map(|(a, b)| (ws + a, ws + b))) {
                            Some((a, b)) => (a - ws, b - ws),
                            None => return false,
                        },
                        false => (s, e),
                    };
                    // A query parameter's value (`?user=bob&password=…&remember=1`) ends at the next `&`, which
                    // a password may otherwise hold.
                    let in_query =
                        rule.generic && name.is_some_and(|(ns, _)| ns > 0 && matches!(window[ns - 1], b'?' | b'&'));
                    let e = match memchr::memchr(b'&', &window[s..e]) {
                        // What is left must still be as long as a generic value (8 characters).
                        Some(amp) if in_query && amp < 8 => return false,
                        Some(amp) if in_query => s + amp,
                        _ if rule.generic => filter::to_closing_quote(window, s, e),
                        _ => e,
                    };
                    let (start, end) = (ws + s, ws + e);
                    let named_reference = name.is_some_and(|(ns, ne)| {
                        filter::is_reference_name(&window[ns..ne])
                            || (start < end && filter::credential_id(&window[ns..ne], &hay[start..end]))
                    });
                    let verdict = if start < end && !named_reference {
                        rule.judge(matcher, hay, start, end, binary)
                    } else {
                        Verdict::Refused
                    };
                    let claimed = if claims && verdict != Verdict::Refused {
                        self.claim_at(text, hay, (start, end), &mut scratch.claims)
                    } else {
                        None
                    };
                    let (rule, to) = match (claimed, verdict) {
                        (Some(specific), _) => (specific, &mut scratch.claimed),
                        (None, Verdict::Accepted) => (r, &mut scratch.matches),
                        (None, Verdict::Forged) => {
                            scratch.forged.push((start, end));
                            return false;
                        }
                        _ => return false,
                    };
                    to.push(Match {
                        rule,
                        start,
                        end,
                        partner: None,
                    });
                    true
                };
            if let Some(st) = &matcher.starts {
                // Every match begins at a keyword: the anchored match at each keyword not inside the
                // previous match, in order, is what a search of the window finds, one after another.
                for &(ws, we) in &scratch.windows[r] {
                    let window = &text[ws..we];
                    if !matcher.may_match(window) {
                        continue;
                    }
                    // Built here, for the first window that may hold a match.
                    let Some(regex) = st.regex.get(window.len()) else {
                        break;
                    };
                    let Some(caps) = st.regex.captures_in(&mut scratch.caps[r]) else {
                        break;
                    };
                    scratch.starts.clear();
                    if scratch.hits_whole {
                        // Sorted by start; decoder patterns (ids past the keywords') have no rules.
                        let from = scratch.hits.partition_point(|&(s, _)| s < ws);
                        let mine =
                            |&&(_, p): &&(usize, usize)| self.pattern_rules.get(p).is_some_and(|rs| rs.contains(&r));
                        let hits = scratch.hits[from..].iter().take_while(|&&(s, _)| s < we);
                        scratch.starts.extend(hits.filter(mine).map(|&(s, p)| (s - ws, p)));
                    } else {
                        st.keywords.find_all(window, &mut scratch.starts);
                    }
                    let mut pos = 0;
                    // The next required byte at or after the keyword at hand, when the regex bounds
                    // how far into a match it lies.
                    let mut next_need: Option<usize> = None;
                    for &(at, _) in &scratch.starts {
                        if at < pos {
                            continue;
                        }
                        if let (Some(b), Some(within)) = (matcher.needs, matcher.needs_within) {
                            if next_need.is_none_or(|q| q < at) {
                                next_need = memchr::memchr(b, &window[at..]).map(|q| at + q);
                            }
                            match next_need {
                                // No match begins here or after.
                                None => break,
                                Some(q) if q - at >= within => continue,
                                Some(_) => {}
                            }
                        }
                        let input = Input::new(window).range(at..).anchored(regex_automata::Anchored::Yes);
                        regex.search_captures(&input, caps);
                        let Some(m) = caps.get_match() else {
                            // Another keyword may begin here too: it is the same anchored search.
                            pos = at + 1;
                            continue;
                        };
                        pos = m.end().max(at + 1);
                        let group = |g: usize| caps.get_group(g).map(|span| (span.start, span.end));
                        let whole = (m.start(), m.end());
                        if let Some(span) = secret_span(matcher.secret, whole, caps.group_len(), group) {
                            take(ws, window, whole.0, span, matcher.name.and_then(group));
                        }
                    }
                }
                continue;
            }
            let Some(tiered) = matcher.regex() else {
                continue;
            };
            for &(ws, we) in &scratch.windows[r] {
                let window = &text[ws..we];
                if !matcher.may_match(window) {
                    continue;
                }
                // Built here, for the first window that may hold a match.
                let Some(regex) = tiered.get(window.len()) else {
                    break;
                };
                let Some(caps) = tiered.captures_in(&mut scratch.locs[r]) else {
                    break;
                };
                let mut pos = 0;
                while pos <= window.len() {
                    let Some((start, end)) = search_at(regex, caps, window, pos) else {
                        break;
                    };
                    pos = if end > start { end } else { end + 1 };
                    let group = |g: usize| caps.get_group(g).map(|m| (m.start, m.end));
                    if let Some(span) = secret_span(matcher.secret, (start, end), caps.group_len(), group) {
                        // A refused secret may hold the start of the real match: in
                        // `apiToken = process.env.API_TOKEN || "…"` the value read first is the
                        // variable; the search goes on from the byte before it (a regex may want
                        // a boundary there), not past it.
                        if !take(ws, window, start, span, matcher.name.and_then(group)) && span.0 > start + 1 {
                            pos = span.0 - 1;
                        }
                    }
                }
            }
        }

        // A match whose required other half is missing is no match: dropped before anything yields to it,
        // a claimed candidate included (`secret_key = …` is AWS's only beside an access key id; alone,
        // the framework rule's).
        self.drop_unpaired(text, &mut scratch.matches);
        // A claimed candidate is still a generic rule's reading: it yields, as the generic match would
        // have, to a specific rule's own match over any of its bytes (a generic value cut short at its
        // length limit inside a longer key the specific rule reads whole).
        if !scratch.claimed.is_empty() {
            let own = &scratch.matches;
            scratch.claimed.retain(|c| {
                !own.iter()
                    .any(|m| !self.rules[m.rule].generic && m.start < c.end && c.start < m.end)
            });
            self.drop_unpaired(text, &mut scratch.claimed);
            scratch.matches.append(&mut scratch.claimed);
        }
        if !scratch.forged.is_empty() {
            let forged = &scratch.forged;
            scratch.matches.retain(|m| {
                let rule = &self.rules[m.rule];
                !((rule.generic || rule.by_place) && forged.contains(&(m.start, m.end)))
            });
        }
        scratch.matches.sort_unstable_by_key(|m| (m.start, m.end, m.rule));
        scratch.matches.dedup();
        self.drop_generic_overlaps(&mut scratch.matches);
        self.one_per_span(&mut scratch.matches);
        self.drop_covered_by_place(text, &mut scratch.matches);
        self.pair_up(text, &mut scratch.matches);
        scratch.unescaped = unescaped;
        &scratch.matches
    }

    /// Finds the other half of each two-part credential near its match (the nearest, within the pair's
    /// reach) and folds a match of another rule on exactly that span into it: one finding names both.
    fn pair_up(&self, hay: &[u8], matches: &mut Vec<Match>) {
        if !matches.iter().any(|m| self.rules[m.rule].pair.is_some()) {
            return;
        }
        let mut folded = Vec::new();
        for m in matches.iter_mut() {
            // A required pair's other half was found already ([`Engine::drop_unpaired`]).
            if let Some(span) = m.partner.or_else(|| self.partner_of(hay, m)) {
                m.partner = Some(span);
                folded.push(span);
            }
        }
        matches.retain(|m| m.partner.is_some() || !folded.contains(&(m.start, m.end)));
    }

    /// Drops the matches of rules whose other half is required (`[rule.pair] required = true`) and not
    /// found, and keeps the other half of those that stay for [`Engine::pair_up`]. Before the other span
    /// filters: such a match is no finding, and must not make another rule's match on the same bytes
    /// yield to it.
    fn drop_unpaired(&self, hay: &[u8], matches: &mut Vec<Match>) {
        let required = |m: &Match| self.rules[m.rule].pair.as_ref().is_some_and(|p| p.required);
        if matches.iter().any(required) {
            matches.retain_mut(|m| {
                if !required(m) {
                    return true;
                }
                m.partner = self.partner_of(hay, m);
                m.partner.is_some()
            });
        }
    }

    /// The nearest other half of `m`'s two-part credential within its pair's reach: not overlapping `m`,
    /// not a placeholder. `None` for a rule without a pair.
    fn partner_of(&self, hay: &[u8], m: &Match) -> Option<(usize, usize)> {
        let rule = &self.rules[m.rule];
        let (
            Some(spec),
            Ok(Matcher {
                pair: Some((regex, group)),
                ..
            }),
        ) = (&rule.pair, rule.matcher())
        else {
            return None;
        };
        let from = m.start.saturating_sub(spec.within);
        let to = m.end.saturating_add(spec.within).min(hay.len());
        let mut locs = regex.capture_locations();
        let mut pos = from;
        let mut best: Option<(usize, usize)> = None;
        while pos < to {
            let Some(found) = regex.captures_read_at(&mut locs, &hay[..to], pos) else {
                break;
            };
            pos = if found.end() > found.start() {
                found.end()
            } else {
                found.end() + 1
            };
            let Some((s, e)) = locs.get(*group) else {
                continue;
            };
            if s >= e || (s < m.end && m.start < e) || filter::is_placeholder(&hay[s..e]) {
                continue;
            }
            let distance = |(s, e): (usize, usize)| {
                if e <= m.start {
                    m.start - e
                } else {
                    s.saturating_sub(m.end)
                }
            };
            if best.is_none_or(|b| distance((s, e)) < distance(b)) {
                best = Some((s, e));
            }
        }
        best
    }

    /// Every span in `hay` that any rule's regex takes for a secret, active or not, whatever its filters
    /// would say: what a snippet must mask. Runs only on lines that hold a finding, so it allocates freely.
    pub fn candidates(&self, hay: &[u8]) -> Vec<(usize, usize)> {
        let mut windows: Vec<(usize, usize, usize)> = Vec::new();
        let mut hits = Vec::new();
        self.keywords.find_all(hay, &mut hits);
        for (start, p) in hits {
            let end = start + self.keywords.pattern(p).len();
            for &r in &self.pattern_rules[p] {
                let w = self.rules[r].window;
                windows.push((r, start.saturating_sub(w), end.saturating_add(w).min(hay.len())));
            }
        }
        windows.extend(self.always.iter().map(|&r| (r, 0, hay.len())));
        windows.sort_unstable();
        let mut out = Vec::new();
        let mut i = 0;
        while i < windows.len() {
            let (r, ws, mut we) = windows[i];
            i += 1;
            while i < windows.len() && windows[i].0 == r && windows[i].1 <= we {
                we = we.max(windows[i].2);
                i += 1;
            }
            let Ok(rule) = self.rules[r].matcher() else {
                continue;
            };
            let window = &hay[ws..we];
            // A rule that searches anchored at its keywords ([`Starts`]) has its regex searched
            // unanchored here: no second automaton for a line of a finding.
            let Some(tiered) = rule.starts.as_ref().map(|st| &st.regex).or_else(|| rule.regex()) else {
                continue;
            };
            let (Some(mut caps), Some(regex)) = (tiered.create_captures(), tiered.get(window.len())) else {
                continue;
            };
            let mut pos = 0;
            while pos <= window.len() {
                let Some((start, end)) = search_at(regex, &mut caps, window, pos) else {
                    break;
                };
                pos = if end > start { end } else { end + 1 };
                let group = |g: usize| caps.get_group(g).map(|m| (m.start, m.end));
                let span = secret_span(rule.secret, (start, end), caps.group_len(), group);
                if let Some((s, e)) = span.filter(|(s, e)| e > s) {
                    out.push((ws + s, ws + e));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Matches of several built-in rules on exactly one span are one secret, reported once, under the rule
    /// that names it best: one that supersedes the others (`supersedes`: Clerk's `sk_live_` beside the word
    /// Clerk), else one that knows the format over one that knows only the place (a Shopify token in a
    /// curl header is Shopify's), else the higher severity, else the rule listed first. `matches` is
    /// sorted by span, so such matches are neighbours.
    fn one_per_span(&self, matches: &mut Vec<Match>) {
        if matches
            .windows(2)
            .all(|w| (w[0].start, w[0].end) != (w[1].start, w[1].end))
        {
            return;
        }
        let rank = |m: &Match| {
            let rule = &self.rules[m.rule];
            (!rule.by_place, rule.info.severity, std::cmp::Reverse(m.rule))
        };
        let kept: Vec<Match> = matches
            .chunk_by(|a, b| (a.start, a.end) == (b.start, b.end))
            .flat_map(|same| {
                let superseded = |m: &Match| same.iter().any(|w| self.rules[w.rule].supersedes.contains(&m.rule));
                let candidates = same.iter().filter(|m| !superseded(m));
                // A config's rule neither hides a built-in rule's finding nor is hidden by one.
                let best = candidates
                    .clone()
                    .filter(|m| self.rules[m.rule].builtin)
                    .max_by_key(|m| rank(m))
                    // Rules that supersede each other: the best of all.
                    .or_else(|| {
                        same.iter()
                            .filter(|m| self.rules[m.rule].builtin)
                            .max_by_key(|m| rank(m))
                    });
                let custom = candidates.filter(|m| !self.rules[m.rule].builtin);
                best.into_iter().chain(custom).copied().collect::<Vec<_>>()
            })
            .collect();
        *matches = kept;
    }

    /// A built-in rule that knows a credential by its place (`curl -u user:password`) yields to a built-in
    /// rule that knows the format of the part that is secret (`-u api:key-…`, Mailgun's key): the format
    /// rule's match lies inside, and what is left around it holds nothing secret-like (no run of 8
    /// letters or digits: a user name, a `:`). A password beside a key id (`-u AKIA…:password`) keeps
    /// its finding.
    fn drop_covered_by_place(&self, hay: &[u8], matches: &mut Vec<Match>) {
        let rule = |m: &Match| &self.rules[m.rule];
        if matches.len() < 2 || !matches.iter().any(|m| rule(m).by_place && rule(m).builtin) {
            return;
        }
        let plain = |bytes: &[u8]| bytes.split(|b| !b.is_ascii_alphanumeric()).all(|run| run.len() < 8);
        let known: Vec<(usize, usize)> = matches
            .iter()
            .filter(|m| rule(m).builtin && !rule(m).by_place && !rule(m).generic)
            .map(|m| (m.start, m.end))
            .collect();
        let covered = |m: &Match| {
            known.iter().any(|&(s, e)| {
                m.start <= s
                    && e <= m.end
                    && (s, e) != (m.start, m.end)
                    && hay.get(m.start..s).is_some_and(plain)
                    && hay.get(e..m.end).is_some_and(plain)
            })
        };
        matches.retain(|m| !(rule(m).by_place && rule(m).builtin && covered(m)));
    }

    /// A generic rule's match that overlaps a specific rule's match is the same secret, already reported.
    fn drop_generic_overlaps(&self, matches: &mut Vec<Match>) {
        if !matches.iter().any(|m| self.rules[m.rule].generic) {
            return;
        }
        let specific: Vec<(usize, usize)> = matches
            .iter()
            .filter(|m| !self.rules[m.rule].generic)
            .map(|m| (m.start, m.end))
            .collect();
        matches.retain(|m| !self.rules[m.rule].generic || !specific.iter().any(|&(s, e)| s < m.end && m.start < e));
    }
}

impl RuleData {
    fn new(sources: &Sources, idx: usize) -> RuleData {
        let loaded = &sources.rules[idx];
        let spec = &loaded.spec;
        let info = RuleInfo {
            id: RuleId::new(&spec.id),
            name: spec.name.clone(),
            severity: spec.severity,
            description: spec.description.clone(),
            remediation: spec.remediation.clone(),
            references: spec.references.clone(),
            tags: spec.tags.clone(),
            keywords: spec.keywords.clone(),
        };
        RuleData {
            generic: spec.is_generic(),
            by_place: spec.is_by_place(),
            refuses_stand_ins: spec.refuses_stand_ins(),
            builtin: loaded.builtin,
            pair: spec.pair.clone(),
            // An id no rule has supersedes nothing (the built-in rules' test checks each one exists).
            supersedes: spec.supersedes.iter().filter_map(|id| sources.index_of(id)).collect(),
            info: Arc::new(info),
            file: loaded.file.clone(),
            regex_src: spec.regex.clone(),
            secret_group: spec.secret_group,
            first_group: spec.first_group,
            allow_src: spec.allow.clone(),
            allow_before_src: spec.allow_before.clone(),
            window: spec.window,
            min_entropy: spec.min_entropy,
            entropy_floor: spec.caps_entropy(),
            check: spec.check,
            delimited: spec.delimited,
            binary: spec.binary,
        }
    }
}

impl CompiledRule {
    /// The rule's window, read from its spec's head (what `window` holds once the rule is read in full).
    fn spec_window(&self) -> usize {
        self.sources
            .rules
            .get(self.idx)
            .map_or_else(|| self.window, |r| r.spec.window())
    }

    /// The secret a finding carries for the bytes `raw` this rule matched: the bytes themselves, or
    /// their base64 for a rule whose secret is binary (`binary = true`: a key store file), so that
    /// reports, fingerprints and `--show-secrets` carry text and two files never share a secret.
    pub fn secret_of<'a>(&self, raw: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        use base64::Engine as _;
        if self.binary {
            std::borrow::Cow::Owned(base64::engine::general_purpose::STANDARD.encode(raw).into_bytes())
        } else {
            std::borrow::Cow::Borrowed(raw)
        }
    }

    /// Whether the rule's secret is binary data ([`CompiledRule::secret_of`]).
    pub fn binary_secret(&self) -> bool {
        self.binary
    }

    /// What the other half of the rule's two-part credential is called, when it has one.
    pub fn pair_label(&self) -> Option<&str> {
        self.pair.as_ref().map(|p| p.label.as_str())
    }

    /// The rule's regexes, compiled on the first call (`PKHOUND_TRACE` names each rule built and its cost:
    /// which rules a commit wakes is most of what a pre-commit hook spends).
    fn matcher(&self) -> &Result<Matcher, EngineError> {
        self.matcher.get_or_init(|| {
            let started = crate::trace::enabled().then(std::time::Instant::now);
            let matcher = self.compile_matcher();
            if let Some(started) = started {
                let us = started.elapsed().as_micros();
                eprintln!(
                    "pkhound trace: rule {} built in {us} us",
                    crate::report::visible(self.info.id.as_str())
                );
            }
            Box::new(matcher)
        })
    }

    fn compile_matcher(&self) -> Result<Matcher, EngineError> {
        let err = |field: &'static str, message: String| EngineError::Regex {
            file: self.file.to_string(),
            rule: self.info.id.as_str().to_string(),
            field,
            message,
        };
        // The regex parses (its syntax is checked here whichever engine runs it).
        let hir = match rule_hir(&self.regex_src) {
            Ok(hir) => Some(Arc::new(hir)),
            Err(e) => return Err(err("regex", e)),
        };
        let starts = hir
            .as_ref()
            .filter(|h| keyword_start(h, &self.info.keywords))
            .cloned()
            .map(|h| {
                // Built from the tree parsed above (same syntax: no Unicode, bytes), and without a
                // prefilter: an anchored search never uses one, and extracting it is most of the build
                // (`(?i:klaviyo)` alone is 128 literals).
                let config = regex_automata::meta::Config::new()
                    .utf8_empty(false)
                    .auto_prefilter(false)
                    .nfa_size_limit(Some(32 << 20));
                Starts {
                    keywords: Literals::new(self.info.keywords.iter().map(|k| k.as_bytes())),
                    regex: Tiered::new(h, config, &self.regex_src),
                }
            });
        let regex = OnceLock::new();
        if starts.is_none() {
            // From the tree parsed above: parsing again was a quarter of a big regex's build.
            if let Some(hir) = &hir {
                let _ = regex.set(Some(Tiered::new(hir.clone(), unanchored_config(), &self.regex_src)));
            }
        }
        // A rule from a config is built now, so that one that does not build (a size limit) is an error
        // at load, naming it; a built-in rule builds when a window first needs it (the rule-example test
        // builds every one).
        if !self.builtin {
            let built = match (&starts, regex.get()) {
                (Some(st), _) => st.regex.light().map(|_| ()),
                (None, Some(Some(t))) => t.light().map(|_| ()),
                _ => Ok(()),
            };
            built.map_err(|e| err("regex", e.to_string()))?;
        }
        // Capture group names, in order (group 0, the whole match, has none), read from the tree.
        let names: Vec<Option<String>> = hir.as_deref().map(capture_names).unwrap_or_default();
        let captures_len = names.len();
        let secret = match names.iter().position(|n| n.as_deref() == Some("secret")) {
            Some(g) => SecretGroup::Index(g),
            None => match self.secret_group {
                Some(0) => SecretGroup::Whole,
                Some(g) if g < captures_len => SecretGroup::Index(g),
                Some(g) => return Err(err("secret_group", format!("the regex has no capture group {g}"))),
                None if self.first_group && captures_len > 1 => SecretGroup::FirstNonEmpty,
                None => SecretGroup::Whole,
            },
        };
        let allow = LazyAnyOf::new(&self.allow_src, !self.builtin).map_err(|e| err("allow", e))?;
        let allow_before = LazyAnyOf::new(&self.allow_before_src, !self.builtin).map_err(|e| err("allow_before", e))?;
        let name = names.iter().position(|n| n.as_deref() == Some("name"));
        let pair = match &self.pair {
            None => None,
            Some(p) => {
                let regex = RegexBuilder::new(&p.regex)
                    .unicode(false)
                    .build()
                    .map_err(|e| err("pair.regex", e.to_string()))?;
                let group = regex.capture_names().position(|n| n == Some("part")).unwrap_or(0);
                Some((regex, group))
            }
        };
        let (needs, needs_within) = hir
            .as_deref()
            .and_then(required_byte)
            .map_or((None, None), |(b, w)| (Some(b), w));
        let run = hir.as_deref().and_then(required_run);
        Ok(Matcher {
            needs,
            needs_within,
            run,
            starts,
            regex,
            src: self.regex_src.clone(),
            secret,
            allow,
            allow_before,
            name,
            pair,
        })
    }

    /// The secret begins with one of the rule's token prefixes ([`filter::opens_with_prefix`]).
    fn starts_with_keyword(&self, secret: &[u8]) -> bool {
        filter::opens_with_prefix(&self.info.keywords, secret)
    }

    /// Whether the rule's secret (its `secret` group, numbered group or whole match) ends in a run of a
    /// fixed number of hex-like characters (`pk_…[0-9a-f]{34}`; a class of at most 22 bytes): a byte
    /// after such a match cannot be part of it, since the regex already took what its greedy parts
    /// could, and such a run does not occur by chance in the names of a symbol table.
    fn ends_fixed(&self) -> bool {
        *self.fixed_end.get_or_init(|| {
            use regex_syntax::hir::{Capture, Hir, HirKind};
            fn group<'h>(h: &'h Hir, want: &dyn Fn(&Capture) -> bool) -> Option<&'h Hir> {
                match h.kind() {
                    HirKind::Capture(c) if want(c) => Some(h),
                    HirKind::Capture(c) => group(&c.sub, want),
                    HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().find_map(|h| group(h, want)),
                    HirKind::Repetition(r) => group(&r.sub, want),
                    _ => None,
                }
            }
            fn fixed(h: &Hir) -> bool {
                match h.kind() {
                    HirKind::Capture(c) => fixed(&c.sub),
                    HirKind::Concat(v) => v.last().is_some_and(fixed),
                    HirKind::Repetition(r) => r.max == Some(r.min) && r.min > 1 && narrow(&r.sub),
                    _ => false,
                }
            }
            // Hex digits at most: a run of letters and digits glued into a symbol table
            // (`pre_undelete_bucket…` for `re_[A-Za-z0-9]{8}_…`) is a name, a fixed run of hex is not.
            fn narrow(h: &Hir) -> bool {
                use regex_syntax::hir::Class;
                let size: u32 = match h.kind() {
                    HirKind::Class(Class::Bytes(c)) => c.iter().map(|r| u32::from(r.end() - r.start()) + 1).sum(),
                    HirKind::Class(Class::Unicode(c)) => c.iter().map(|r| r.end() as u32 - r.start() as u32 + 1).sum(),
                    _ => return false,
                };
                size <= 22
            }
            let Ok(hir) = rule_hir(&self.regex_src) else {
                return false;
            };
            let secret = match group(&hir, &|c| c.name.as_deref() == Some("secret")) {
                Some(h) => Some(h),
                None => match self.secret_group {
                    Some(0) => Some(&hir),
                    None if !self.first_group => Some(&hir),
                    Some(g) => group(&hir, &|c| c.index as usize == g),
                    None => None,
                },
            };
            secret.is_some_and(fixed)
        })
    }

    /// The filters every candidate secret must pass: delimitation, allowlist, a slice of a base64 blob
    /// (text only), digest context, placeholder, entropy, check; a binary secret, only the allowlist and
    /// its check.
    ///
    /// In a binary file (`binary`) a secret that starts with its rule's token prefix may be glued to
    /// word bytes: SQLite stores a record's values back to back after their serial types, so a TEXT key
    /// has the type byte (`W` for 37 bytes) or the previous column's value on its left, and the next
    /// column's value on its right. Its left glue is accepted; its right glue only when the secret ends
    /// in a fixed-count run of hex ([`CompiledRule::ends_fixed`]: `pk_` + 34 hex, whose extent the
    /// regex decides). An open-ended or alphanumeric body (`[A-Za-z0-9]{24}`) still rejects it: glued
    /// into symbol names (`pre_undelete_bucket…`) it gave 14 false findings in `/usr/lib`. Text files are
    /// unchanged.
    #[cfg(test)]
    fn accepts(&self, matcher: &Matcher, hay: &[u8], start: usize, end: usize, binary: bool) -> bool {
        self.judge(matcher, hay, start, end, binary) == Verdict::Accepted
    }

    /// [`CompiledRule::accepts`], saying which part refused: the context (delimitation, allowlist, base64
    /// blob, digest context, placeholder or published sample), or only the value's own look (the
    /// generic-only filters, entropy, check), which a specific rule claiming the candidate judges anew.
    fn judge(&self, matcher: &Matcher, hay: &[u8], start: usize, end: usize, binary: bool) -> Verdict {
        let secret = &hay[start..end];
        if self.delimited
            && !filter::is_delimited(hay, start, end)
            && !(binary
                && self.starts_with_keyword(secret)
                && (filter::is_delimited_right(hay, end) || self.ends_fixed()))
        {
            return Verdict::Refused;
        }
        // A generic assignment's value that is a dotted name is read from an object (`= settings.KEY`); one
        // that is a path names a file.
        let named = self.generic && matcher.name.is_some();
        if matcher.allow.is_match(secret)
            || (named && (filter::dotted_name(hay, start, end) || filter::path_of_names(secret)))
        {
            return Verdict::Refused;
        }
        if self.binary {
            // A binary secret (a key store file) is bytes, not text: words near it, placeholder marks
            // (a certificate's subject reads `CN=www.example.com`) and entropy do not judge it; its
            // structural check does.
            return Verdict::of(self.check.is_none_or(|c| check::passes_at(c, hay, start, end)));
        }
        if !binary && filter::inside_base64_blob(hay, start, end) {
            return Verdict::Refused;
        }
        if filter::digest_context(hay, start, end) {
            return Verdict::Refused;
        }
        if filter::is_placeholder(secret)
            || filter::is_published_sample(secret)
            || filter::is_dpapi_blob(secret)
            || (self.generic && filter::encodes_placeholder(secret))
            || filter::echoes_user(hay, start, end)
            // A placeholder's free-form value (a URL's password) is a stand-in; a token in its provider's
            // format (`NRAK-…`, `sk_live_…`) is as often a real key pasted as the sample.
            || (filter::placeholder_value(hay, start) && !self.starts_with_keyword(secret))
        {
            return Verdict::Refused;
        }
        if self.refuses_stand_ins && filter::is_stand_in(secret) {
            return Verdict::Refused;
        }
        if self.generic && filter::generic_context_refusal(hay, start, end).is_some() {
            return Verdict::Refused;
        }
        if self.generic && (filter::is_altered_hex(secret) || filter::made_of_runs(secret)) {
            return Verdict::ValueRefused;
        }
        if let Some(min) = self.min_entropy {
            if filter::spelled_as_words(secret) {
                return Verdict::ValueRefused;
            }
            if filter::shannon_entropy(secret) < filter::entropy_threshold(min, secret, self.entropy_floor) {
                return Verdict::ValueRefused;
            }
        }
        match self.check {
            None => Verdict::Accepted,
            Some(c) if check::passes_at(c, hay, start, end) => Verdict::Accepted,
            Some(c) if c.is_format_check() => Verdict::Forged,
            Some(_) => Verdict::ValueRefused,
        }
    }
}

/// What a rule's filters say of a candidate secret ([`CompiledRule::judge`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Accepted,
    /// Refused for its context, or as no secret at all (a placeholder).
    Refused,
    /// Refused only for how the value looks to this rule (entropy, the generic rules' own filters).
    ValueRefused,
    /// In the rule's exact format but failing the format's own check (`Check::is_format_check`: a
    /// GitHub token's CRC32, an AWS key id's base32): never issued, so the generic and place rules
    /// refuse the same span too ([`Scratch::forged`]).
    Forged,
}

impl Verdict {
    fn of(accepted: bool) -> Verdict {
        if accepted {
            Verdict::Accepted
        } else {
            Verdict::Refused
        }
    }
}

/// The syntax every rule regex is read with, in one place: bytes (a match need not be UTF-8) and ASCII
/// classes (`\w`, `\d`, `\s` as in Go's RE2, which gitleaks rules assume). Secrets are ASCII, and
/// Unicode classes make each regex's automaton many times larger to build and run.
fn rule_syntax() -> regex_automata::util::syntax::Config {
    regex_automata::util::syntax::Config::new().unicode(false).utf8(false)
}

/// `regex` parsed as the rules' regexes are built ([`rule_syntax`]).
fn parse_hir(regex: &str) -> Result<regex_syntax::hir::Hir, String> {
    regex_automata::util::syntax::parse_with(regex, &rule_syntax()).map_err(|e| e.to_string())
}

/// A rule's regex parsed: a built-in rule's as parsed at build time, any other's now.
fn rule_hir(regex: &Text) -> Result<regex_syntax::hir::Hir, String> {
    match crate::rules::builtin_regex(regex) {
        Some(hir) => Ok(hir),
        None => parse_hir(regex),
    }
}

/// The secret's span in a regex match: the rule's group (`None` when it did not take part), the first
/// group that matched something, or the whole match.
fn secret_span(
    secret: SecretGroup,
    whole: (usize, usize),
    groups: usize,
    group: impl Fn(usize) -> Option<(usize, usize)>,
) -> Option<(usize, usize)> {
    match secret {
        SecretGroup::Index(g) => group(g),
        SecretGroup::FirstNonEmpty => (1..groups).filter_map(group).find(|(s, e)| e > s),
        SecretGroup::Whole => Some(whole),
    }
}

// The built-in rules' path gates' tails, listed by `build.rs` with `tails::path_tails`:
// `BUILTIN_PATH_TAILS`, (path regex, its tails).
include!(concat!(env!("OUT_DIR"), "/builtin_path_tails.rs"));

/// The tails `build.rs` listed for a built-in rule's gate regex `src` (or any gate with the same regex);
/// `None` when it listed none for `src`.
fn listed_tails(src: &str) -> Option<Option<Vec<Vec<u8>>>> {
    let (_, tails) = BUILTIN_PATH_TAILS.iter().find(|(s, _)| *s == src)?;
    Some(tails.map(|t| t.iter().map(|l| l.to_vec()).collect()))
}

/// A rule's `path` gate. Compiled on first need, not at start-up: a regex costs a quarter of a millisecond
/// to build, and a pre-commit hook pays start-up on every commit. Before the regex, the path must end with
/// one of the gate's suffix literals (`.key`, `logins.json`), which `regex_syntax` lists from the pattern
/// (a gate anchored at its end, as path gates are, has them): most paths are refused without a regex.
#[derive(Debug)]
struct PathGate {
    rule: usize,
    src: String,
    /// The literals every match ends with; `None` when they cannot be listed (then every path asks the regex).
    tails: OnceLock<Option<Vec<Vec<u8>>>>,
    regex: OnceLock<Result<regex::Regex, String>>,
}

impl PathGate {
    fn regex(&self) -> &Result<regex::Regex, String> {
        self.regex
            .get_or_init(|| regex::Regex::new(&self.src).map_err(|e| e.to_string()))
    }

    fn tails(&self) -> Option<&[Vec<u8>]> {
        self.tails
            .get_or_init(|| listed_tails(&self.src).unwrap_or_else(|| tails::path_tails(&self.src)))
            .as_deref()
    }

    /// Whether the gate opens for `path` (a gate whose regex does not compile opens for none).
    fn opens(&self, path: &str) -> bool {
        if let Some(tails) = self.tails() {
            if !tails.iter().any(|t| path.as_bytes().ends_with(t)) {
                return false;
            }
        }
        self.regex().as_ref().is_ok_and(|r| r.is_match(path))
    }
}

/// Whether every match of the regex `hir` begins with one of `keywords` (ASCII case ignored), so that it can run
/// anchored at each keyword instead of searching a window ([`Starts`]). Proved from the regex's prefixes
/// ([`folded_prefixes`]: each match begins with one of them): each must begin with a keyword. `false` when
/// they cannot be listed (a leading class or open repetition, an empty prefix, too many) or one does not
/// begin with a keyword (`(?:^|[^a-z])token…` begins before its keyword).
fn keyword_start(hir: &regex_syntax::hir::Hir, keywords: &[Text]) -> bool {
    let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.to_ascii_lowercase().into_bytes()).collect();
    let need = keywords.iter().map(Vec::len).max().unwrap_or(0);
    if need == 0 {
        return false;
    }
    let Some(prefixes) = folded_prefixes(hir, need) else {
        return false;
    };
    !prefixes.is_empty()
        && prefixes
            .iter()
            .all(|(p, _)| keywords.iter().any(|k| !k.is_empty() && p.starts_with(k)))
}

/// The prefixes, lower-cased and at most `need` bytes long, that every match of `hir` begins with: one
/// `(bytes, exact)` per way a match can begin, `exact` when the match can be those bytes and nothing
/// more (so what follows in a concatenation extends it). ASCII case is folded as the keywords are, so
/// `(?i:s2_unauthenticated)` is one prefix, not the 2^16 a case-keeping literal extraction lists (which
/// was most of the start-up of such a rule). `None` when a match can begin with a class of more than
/// four bytes, or there would be more than `MAX_PREFIXES`.
fn folded_prefixes(hir: &regex_syntax::hir::Hir, need: usize) -> Option<Vec<(Vec<u8>, bool)>> {
    use regex_syntax::hir::{Class, HirKind};
    const MAX_PREFIXES: usize = 4096;
    type Prefixes = Vec<(Vec<u8>, bool)>;
    fn cap(mut v: Prefixes, need: usize) -> Option<Prefixes> {
        for (p, exact) in &mut v {
            if p.len() >= need {
                p.truncate(need);
                *exact = false;
            }
        }
        v.sort();
        v.dedup();
        (v.len() <= MAX_PREFIXES).then_some(v)
    }
    fn concat(a: &Prefixes, b: &Prefixes, need: usize) -> Option<Prefixes> {
        let mut out = Vec::new();
        for (x, exact) in a {
            if !exact {
                out.push((x.clone(), false));
                continue;
            }
            for (y, y_exact) in b {
                let mut joined = x.clone();
                joined.extend_from_slice(y);
                out.push((joined, *y_exact));
            }
            if out.len() > MAX_PREFIXES {
                return None;
            }
        }
        cap(out, need)
    }
    let exact_empty = || vec![(Vec::new(), true)];
    let v = match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => exact_empty(),
        HirKind::Literal(l) => vec![(l.0.to_ascii_lowercase(), true)],
        HirKind::Class(class) => {
            // Each member, folded, as the bytes the keywords are written in (a character as its UTF-8:
            // `ñ`, `Ş`); a class of more than a few members says nothing a keyword could use.
            let mut members: Vec<Vec<u8>> = Vec::new();
            match class {
                Class::Bytes(c) => {
                    for r in c.ranges() {
                        if usize::from(r.end() - r.start()) >= 8 {
                            return None;
                        }
                        members.extend((r.start()..=r.end()).map(|b| vec![b.to_ascii_lowercase()]));
                    }
                }
                Class::Unicode(c) => {
                    for r in c.ranges() {
                        if u32::from(r.end()) - u32::from(r.start()) >= 8 {
                            return None;
                        }
                        members
                            .extend((r.start()..=r.end()).map(|ch| ch.to_string().into_bytes().to_ascii_lowercase()));
                    }
                }
            }
            members.sort_unstable();
            members.dedup();
            if members.len() > 4 {
                return None;
            }
            members.into_iter().map(|m| (m, true)).collect()
        }
        HirKind::Capture(c) => return folded_prefixes(&c.sub, need),
        HirKind::Concat(parts) => {
            let mut acc = exact_empty();
            for part in parts {
                if acc.iter().all(|(_, exact)| !exact) {
                    break;
                }
                // The part extends the shortest exact prefix so far, which needs only so many more bytes:
                // asking it for fewer keeps a large part (`(?&assign)` after a name) from listing the
                // thousands of ways it can begin, which `cap` would cut to the same few anyway.
                let shortest = acc
                    .iter()
                    .filter(|(_, exact)| *exact)
                    .map(|(p, _)| p.len())
                    .min()
                    .unwrap_or(0);
                // What follows is unknown, or too many ways on: the prefixes so far are all that is known.
                match folded_prefixes(part, need - shortest).and_then(|next| concat(&acc, &next, need)) {
                    Some(joined) => acc = joined,
                    None => {
                        acc = acc.into_iter().map(|(p, _)| (p, false)).collect();
                        break;
                    }
                }
            }
            acc
        }
        HirKind::Alternation(branches) => {
            let mut out = Vec::new();
            for b in branches {
                out.extend(folded_prefixes(b, need)?);
                if out.len() > MAX_PREFIXES {
                    return None;
                }
            }
            out
        }
        HirKind::Repetition(r) => {
            let sub = folded_prefixes(&r.sub, need)?;
            match r.max {
                // A few copies (`s?`, `(?:ab){1,2}`): each count spelled out.
                Some(max) if max <= 3 => {
                    let mut out = Vec::new();
                    let mut copies = exact_empty();
                    for n in 0..=max {
                        if n >= r.min {
                            out.extend(copies.iter().cloned());
                        }
                        if n < max {
                            copies = concat(&copies, &sub, need)?;
                        }
                    }
                    out
                }
                // Open-ended: one copy at least is a prefix; none is unknown.
                _ if r.min >= 1 => sub.into_iter().map(|(p, _)| (p, false)).collect(),
                _ => vec![(Vec::new(), false)],
            }
        }
    };
    cap(v, need)
}

/// A byte that every match of the regex `hir` contains, chosen among all such bytes as the least common in
/// source code (`@` over `:` over `=`): the rule's regex cannot match in a window that lacks it, so
/// looking for it first (at `memchr` speed) skips the regex there with the same result. Only bytes
/// the regex spells exactly count (a literal, a one-byte class): `(?i)` letters are two-byte classes.
/// `None` when the regex requires no byte (an alternation of unrelated literals, a bare class).
///
/// With the byte, when the regex bounds it, how far into a match its first such byte can lie at most
/// (the bytes up to and including it): a match that begins at a keyword ([`Starts`]) needs that byte
/// within so many bytes of the keyword, which skips most keywords of a page of URLs without a search.
fn required_byte(hir: &regex_syntax::hir::Hir) -> Option<(u8, Option<usize>)> {
    use regex_syntax::hir::{Class, Hir, HirKind};
    // Bytes every match of `h` holds, as a 256-bit set.
    fn required(h: &Hir) -> [bool; 256] {
        let mut set = [false; 256];
        match h.kind() {
            HirKind::Literal(l) => l.0.iter().for_each(|&b| set[usize::from(b)] = true),
            HirKind::Class(Class::Bytes(c)) => {
                if let [r] = c.ranges() {
                    if r.start() == r.end() {
                        set[usize::from(r.start())] = true;
                    }
                }
            }
            HirKind::Class(Class::Unicode(c)) => {
                if let [r] = c.ranges() {
                    if r.start() == r.end() && r.start().is_ascii() {
                        set[r.start() as usize] = true;
                    }
                }
            }
            HirKind::Capture(c) => set = required(&c.sub),
            HirKind::Repetition(r) if r.min > 0 => set = required(&r.sub),
            HirKind::Concat(v) => {
                for sub in v {
                    let s = required(sub);
                    (0..256).for_each(|b| set[b] |= s[b]);
                }
            }
            HirKind::Alternation(v) => {
                set = [true; 256];
                for sub in v {
                    let s = required(sub);
                    (0..256).for_each(|b| set[b] &= s[b]);
                }
            }
            _ => {}
        }
        set
    }
    // The most bytes a match of `h` spans up to and including its first `b`, which it must hold.
    fn within(h: &Hir, b: u8) -> Option<usize> {
        match h.kind() {
            HirKind::Capture(c) => within(&c.sub, b),
            HirKind::Concat(v) => {
                let mut before = 0usize;
                for sub in v {
                    if required(sub)[usize::from(b)] {
                        return before.checked_add(within(sub, b)?);
                    }
                    before = before.checked_add(sub.properties().maximum_len()?)?;
                }
                None
            }
            _ => h.properties().maximum_len(),
        }
    }
    // From rarest to most common in source code; a byte not listed is not worth a pass.
    const RARITY: &[u8] = b"@~^`|\\%$#!?;&*+<>[]{}()'/\"-.,_:=";
    let set = required(hir);
    let b = RARITY.iter().copied().find(|&b| set[usize::from(b)])?;
    Some((b, within(hir, b)))
}

impl Matcher {
    /// The unanchored regex, built on first use when the rule searches with [`Starts`]. `None` only if
    /// its build fails where the anchored one's did not (a size limit): such a rule then masks nothing.
    fn regex(&self) -> Option<&Tiered> {
        self.regex
            .get_or_init(|| {
                // The anchored regex's parsed source, if its full build has not taken it yet.
                let tiered = match self.starts.as_ref().and_then(|s| s.regex.hir()) {
                    Some(hir) => Tiered::new(hir, unanchored_config(), &self.src),
                    None => build_tiered(&self.src).ok()?,
                };
                tiered.light().is_ok().then_some(tiered)
            })
            .as_ref()
    }

    /// Whether `window` holds what every match needs: the required byte and the required run.
    fn may_match(&self, window: &[u8]) -> bool {
        self.needs.is_none_or(|b| memchr::memchr(b, window).is_some())
            && self.run.as_ref().is_none_or(|r| r.found_in(window))
    }
}

/// A rule's regex for unanchored searches, as a [`Tiered`] one (its light build now, the full one when
/// searches ask), in the rules' syntax ([`rule_syntax`]).
fn build_tiered(src: &Text) -> Result<Tiered, String> {
    let hir = rule_hir(src)?;
    Ok(Tiered::new(Arc::new(hir), unanchored_config(), src))
}

/// The names of `hir`'s capture groups by group index (0, the whole match, unnamed), as the regex built
/// from it numbers them.
fn capture_names(hir: &regex_syntax::hir::Hir) -> Vec<Option<String>> {
    use regex_syntax::hir::HirKind;
    fn walk(h: &regex_syntax::hir::Hir, out: &mut Vec<Option<String>>) {
        match h.kind() {
            HirKind::Capture(c) => {
                let i = c.index as usize;
                if out.len() <= i {
                    out.resize(i + 1, None);
                }
                out[i] = c.name.as_deref().map(str::to_string);
                walk(&c.sub, out);
            }
            HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().for_each(|h| walk(h, out)),
            HirKind::Repetition(r) => walk(&r.sub, out),
            _ => {}
        }
    }
    let mut out = vec![None];
    walk(hir, &mut out);
    out
}

/// What `regex::bytes::RegexBuilder` configures, with its size limit raised to 32 MiB.
fn unanchored_config() -> regex_automata::meta::Config {
    regex_automata::meta::Config::new()
        .utf8_empty(false)
        .nfa_size_limit(Some(32 << 20))
}

/// The leftmost-first match of `regex` in `hay` at or after `pos`, its groups left in `caps`; as
/// `regex::bytes::Regex::captures_read_at`: the haystack is whole, so assertions see what lies before.
fn search_at(
    regex: &regex_automata::meta::Regex,
    caps: &mut Captures,
    hay: &[u8],
    pos: usize,
) -> Option<(usize, usize)> {
    regex.search_captures(&Input::new(hay).range(pos..), caps);
    caps.get_match().map(|m| (m.start(), m.end()))
}

/// `min` bytes in a row, each in `class`.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    class: [bool; 256],
    min: usize,
}

/// Runs shorter than this are everywhere in source code: not worth a check.
const RUN_MIN: usize = 12;

impl Run {
    /// Whether `hay` holds the run. Checks one byte in `min` where the class is rare: a byte outside the
    /// class at `p` rules out every run through `p`, so the next run that could fit ends at `p + min` or
    /// later; at a byte inside it, the run through it is measured back and forth.
    fn found_in(&self, hay: &[u8]) -> bool {
        let min = self.min.max(1);
        let class = |i: usize| self.class[usize::from(hay[i])];
        let mut p = min - 1;
        while p < hay.len() {
            if !class(p) {
                p += min;
                continue;
            }
            // The run through `p` starts at `start`; does it reach `start + min`?
            let mut start = p;
            while start > 0 && p + 1 - start < min && class(start - 1) {
                start -= 1;
            }
            let mut end = p + 1;
            while end < hay.len() && end - start < min && class(end) {
                end += 1;
            }
            if end - start >= min {
                return true;
            }
            // `end` is outside the class (or past the end): the next run ends at `end + min` or later.
            p = end + min;
        }
        false
    }
}

/// The longest run of one byte class that every match of `hir` holds, when it is at least [`RUN_MIN`]
/// bytes: a repeated class (`[a-f0-9]{64}`) on the path every match takes (a concatenation, a group, a
/// repetition that must happen).
fn required_run(hir: &regex_syntax::hir::Hir) -> Option<Run> {
    use regex_syntax::hir::{Class, HirKind};
    fn class_of(h: &regex_syntax::hir::Hir) -> Option<[bool; 256]> {
        let mut set = [false; 256];
        match h.kind() {
            HirKind::Class(Class::Bytes(c)) => {
                for r in c.ranges() {
                    (r.start()..=r.end()).for_each(|b| set[usize::from(b)] = true);
                }
            }
            // Only ASCII: a wider class matches multi-byte sequences.
            HirKind::Class(Class::Unicode(c)) => {
                for r in c.ranges() {
                    if !r.end().is_ascii() {
                        return None;
                    }
                    (r.start() as u8..=r.end() as u8).for_each(|b| set[usize::from(b)] = true);
                }
            }
            HirKind::Literal(l) if l.0.len() == 1 => set[usize::from(l.0[0])] = true,
            _ => return None,
        }
        Some(set)
    }
    fn longest(h: &regex_syntax::hir::Hir) -> Option<Run> {
        match h.kind() {
            HirKind::Capture(c) => longest(&c.sub),
            HirKind::Repetition(r) if r.min > 0 => match class_of(&r.sub) {
                Some(class) => Some(Run {
                    class,
                    min: usize::try_from(r.min).ok()?,
                }),
                None => longest(&r.sub),
            },
            HirKind::Concat(v) => v.iter().filter_map(longest).max_by_key(|r| r.min),
            _ => None,
        }
    }
    longest(hir).filter(|r| r.min >= RUN_MIN)
}

/// Makes `windows` sorted and disjoint, merging those that overlap or touch, when they are not already.
fn merge_windows(windows: &mut Vec<(usize, usize)>) {
    if windows.windows(2).all(|p| p[0].1 < p[1].0) {
        return;
    }
    windows.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(windows.len());
    for &(s, e) in windows.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *windows = merged;
}

/// Bytes an engine scans with its literal sets before it builds the DFA. A DFA over the ~4,000 patterns
/// takes tens of milliseconds to build and then searches a little faster than the literal sets: it pays
/// after a megabyte or two, and a pre-commit hook's staged change never gets there.
const DFA_AFTER: usize = 1 << 20;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod path_gate_tests {
    use super::*;

    fn gate(src: &str) -> PathGate {
        PathGate {
            rule: 0,
            src: src.to_string(),
            tails: OnceLock::new(),
            regex: OnceLock::new(),
        }
    }

    #[test]
    fn built_in_gates_refuse_most_paths_without_their_regex() {
        let rules = crate::rules::builtin().expect("built-in rules load");
        let gated: Vec<&str> = rules.iter().filter_map(|r| r.spec.path.as_deref()).collect();
        assert!(!gated.is_empty());
        for src in gated {
            let g = gate(src);
            let tails = g.tails();
            assert!(tails.is_some_and(|t| !t.is_empty()), "{src}: no suffix literals");
            assert!(!g.opens("src/app/main.py"), "{src}");
            assert!(g.regex.get().is_none(), "{src}: compiled for a path no suffix allows");
        }
        let rails = gate(r"(?:^|[/!])config/(?:master|credentials/[A-Za-z0-9_.-]+)\.key$");
        assert!(rails.opens("app/config/master.key"));
        assert!(rails.opens("config/credentials/production.key"));
        assert!(!rails.opens("config/other.key"));
        // A gate not anchored at the end has no tails: every path asks its regex.
        assert!(gate("secrets/").tails().is_none());
        assert!(gate("secrets/").opens("a/secrets/b.txt"));
    }

    /// Each built-in gate's tails come from the table `build.rs` wrote, and are what the gate's regex
    /// gives at run time (a gate no built-in rule has is listed at run time).
    #[test]
    fn built_in_gates_tails_are_listed_at_build_time() {
        let rules = crate::rules::builtin().expect("built-in rules load");
        for src in rules.iter().filter_map(|r| r.spec.path.as_deref()) {
            let listed = listed_tails(src).unwrap_or_else(|| panic!("{src}: not in BUILTIN_PATH_TAILS"));
            assert_eq!(listed, tails::path_tails(src), "{src}");
            assert_eq!(gate(src).tails(), listed.as_deref(), "{src}");
        }
        let own = r"(?:^|/)zq-own\.cfg$";
        assert!(listed_tails(own).is_none());
        assert_eq!(
            gate(own).tails(),
            Some(&[b"zq-own.cfg".to_vec(), b"/zq-own.cfg".to_vec()][..])
        );
    }
}
