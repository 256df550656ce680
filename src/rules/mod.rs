//! The rule model and its loading: built-in `rules/*.toml` embedded at build time, a user's `.pkhound.toml`
//! ([`config`]) and gitleaks configs ([`gitleaks`]).
//!
//! A rule is data: keywords for the prefilter, a regex whose `secret` group is the credential, filters,
//! metadata for reports, and examples that prove it. This module parses and validates; compiling the
//! matcher belongs to `engine`.

mod bake;
mod baked;
pub mod config;
pub mod doc;
pub mod fragment;
pub mod gitleaks;
mod hir_codec;
mod text;

pub use text::Text;

use serde::Deserialize;
use std::sync::{Arc, OnceLock};
use thiserror::Error;

use crate::finding::Severity;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Structural checks a secret must pass, beyond its regex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// GitHub tokens: the last 6 characters are base62(CRC32(the 30-character body)).
    GithubCrc32,
    /// npm tokens: same scheme as GitHub's.
    NpmCrc32,
    /// Grafana service account tokens (`glsa_<32>_<8 hex>`): the hex is the CRC32 of everything before
    /// the last `_`, its four bytes little-endian.
    GrafanaCrc32,
    /// AWS access key ids after `AKIA`, `ASIA`, `ABIA` or `ACCA`: the 16 characters that follow are base32
    /// (`A`-`Z`, `2`-`7`; they encode the account id). `A3T` ids, an early form, are not judged.
    AwsKeyId,
    /// A JWT whose header and payload decode to JSON objects and whose header names an `alg` other than `none`.
    Jwt,
    /// A JWE in compact form (five parts): a header that decodes to a JSON object naming `enc` and `alg`,
    /// an encrypted key (empty under `dir`), and a non-empty IV, ciphertext and tag. An encrypted token is
    /// a bearer token all the same (AppsFlyer's API tokens, Snap's refresh tokens).
    Jwe,
    /// A BIP-39 recovery phrase: every word in the English list and the checksum right.
    Bip39,
    /// An HTTP Basic credential: base64 of `user:password` with a real-looking password.
    BasicAuth,
    /// A password a person chose: from 12 characters, as random as a generic secret of its shape
    /// (`engine::filter::entropy_threshold`); 8 to 11 characters, at least three of lower case, upper
    /// case, digits and symbols (`Pass123!@#`), which templates and words rarely mix.
    HumanPassword,
    /// What the generic password rule takes: a [`Check::HumanPassword`], except that a value with no digit
    /// and at most one mark must have its capitals scattered as a generator's are (`kTkKrDE@WwulXz`), not
    /// open words (`MyStrongPassword!`, `@previous_password`).
    GenericPassword,
    /// A Ceph (cephx) key: base64 of the key type (1, AES), its creation time and a 16-byte secret.
    Cephx,
    /// A Kubernetes Secret's `data` value: base64 of a password, key or token (what
    /// [`Check::HumanPassword`] accepts, a private key, or a registry login), not of a name, address
    /// or certificate.
    Base64Secret,
    /// Base64 of 16, 32 or 64 random bytes (a symmetric key): not text, not a run of one byte.
    RandomKeyBytes,
    /// A Cisco type 7 password: a seed of 00 to 15 and hex pairs that decode (XOR with Cisco's fixed key)
    /// to printable ASCII.
    CiscoType7,
    /// A crypt(3) password hash as a system or an application stores it: not bcrypt at a test cost (04 or
    /// less), and not shown as a value a call returns in documentation (`# => "$2a$10$…"`).
    CryptHash,
    /// A password in JetBrains IDEs' scramble (`WebServers.xml`): 4 hex digits per character, the
    /// character XORed with `0xDFAA`, which decode to printable ASCII.
    JetbrainsScramble,
    /// A PKCS #12 key store (`.p12`/`.pfx`) that holds a private key: its DER bytes, or their base64
    /// (wrapped or not). PFX version 3 with a key bag, whose type sits in the clear beside the encrypted
    /// key; a truststore (certificates only) is not a secret.
    Pkcs12,
    /// A Java key store (JKS or JCEKS) that holds a private key or a secret key, not only trusted
    /// certificates (a truststore).
    JavaKeystore,
    /// A Bitcoin private key in base58check (a WIF key: version 0x80 or testnet's 0xef, 32 bytes, 0x01
    /// when compressed; or a BIP-32 extended private key, `xprv`/`tprv`, 78 bytes with a private key's
    /// 0x00 before its 32 bytes), its double-SHA-256 checksum right.
    Base58checkKey,
    /// A Solana secret key in base58: 64 bytes (the ed25519 seed, then its public key).
    SolanaSecretKey,
    /// A CSV or TSV file's password column: the rule's match is the header line, and the engine reads
    /// the cell under each password-named column of every row (`engine::filter::csv_password_cells`),
    /// each judged as a [`Check::HumanPassword`].
    CsvPasswordColumn,
    /// A literal assigned to a name (`_k = "…"`, `const cs = "…"`, `sk: "…"`) that the code then uses as a
    /// credential within `engine::check::USE_REACH` bytes: a bearer token (`f"Bearer {_k}"`), a
    /// credential-named field or argument (`client_secret=cs`, `headers["x-api-key"] = K`), the key of an
    /// HMAC or a JWT signature (`hmac.new(K.encode(), …)`), a Basic credential's password. The name says
    /// nothing; the use does.
    UsedAsCredential,
    /// A BitLocker recovery password: eight blocks of six digits, each a multiple of 11 below 720,896
    /// (each encodes 16 bits of the key, times 11).
    BitlockerRecovery,
}

impl Check {
    /// A check of a token format's own redundancy (a checksum, an encoding's alphabet): a value in the
    /// format that fails it was never issued. The engine's generic and place rules refuse that value
    /// too, so a made-up token the provider's rule refuses is not reported under another name.
    pub fn is_format_check(self) -> bool {
        matches!(
            self,
            Check::GithubCrc32 | Check::NpmCrc32 | Check::GrafanaCrc32 | Check::AwsKeyId | Check::Base58checkKey
        )
    }
}

impl RuleSpec {
    /// A generic rule (tag `generic`): it yields to a specific rule on the same bytes, and its entropy
    /// threshold follows the candidate's shape (`engine::filter::entropy_threshold`).
    pub fn is_generic(&self) -> bool {
        self.tags.iter().any(|t| t == "generic")
    }

    /// Whether `min_entropy` is capped at random values' floor: generic rules, and rules that set
    /// `entropy_floor` (the engine's `filter::entropy_threshold`).
    pub fn caps_entropy(&self) -> bool {
        self.entropy_floor || self.is_generic()
    }

    /// A rule of the `generic` category: it knows a credential by where it stands (a curl header, a
    /// `.netrc` line), not by its format.
    pub fn is_by_place(&self) -> bool {
        self.category == Some(Category::Generic)
    }

    /// Whether hand-typed stand-ins (`a1b2c3d4…`, the engine's `filter::is_stand_in`) are placeholders to
    /// this rule: generic and place rules, and rules that set `refuse_stand_ins`.
    pub fn refuses_stand_ins(&self) -> bool {
        self.refuse_stand_ins || self.is_generic() || self.is_by_place()
    }
}

/// What kind of service a credential belongs to, for grouping rules in listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Cloud,
    Ai,
    Payments,
    SourceControl,
    Registry,
    Messaging,
    EmailMarketing,
    Observability,
    Database,
    Identity,
    Saas,
    PrivateKey,
    Generic,
}

impl Category {
    /// Every category, in listing order.
    pub const ALL: [Category; 13] = [
        Category::Cloud,
        Category::Ai,
        Category::Payments,
        Category::SourceControl,
        Category::Registry,
        Category::Messaging,
        Category::EmailMarketing,
        Category::Observability,
        Category::Database,
        Category::Identity,
        Category::Saas,
        Category::PrivateKey,
        Category::Generic,
    ];

    /// The kebab-case name used in rule files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Cloud => "cloud",
            Category::Ai => "ai",
            Category::Payments => "payments",
            Category::SourceControl => "source-control",
            Category::Registry => "registry",
            Category::Messaging => "messaging",
            Category::EmailMarketing => "email-marketing",
            Category::Observability => "observability",
            Category::Database => "database",
            Category::Identity => "identity",
            Category::Saas => "saas",
            Category::PrivateKey => "private-key",
            Category::Generic => "generic",
        }
    }

    /// The heading a listing shows.
    pub fn title(self) -> &'static str {
        match self {
            Category::Cloud => "Cloud and infrastructure",
            Category::Ai => "AI and machine learning",
            Category::Payments => "Payments and commerce",
            Category::SourceControl => "Source hosting and CI/CD",
            Category::Registry => "Package registries",
            Category::Messaging => "Messaging and chat",
            Category::EmailMarketing => "E-mail and marketing",
            Category::Observability => "Observability and monitoring",
            Category::Database => "Databases and URLs with credentials",
            Category::Identity => "Identity, auth and tokens",
            Category::Saas => "SaaS and productivity",
            Category::PrivateKey => "Private keys",
            Category::Generic => "Generic credentials",
        }
    }
}

/// A positive example: `text` must yield exactly one finding of the rule, with secret `secret`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositiveExample {
    pub text: Text,
    pub secret: Text,
    /// For a rule with a `[rule.pair]`: the other half the finding must name.
    #[serde(default)]
    pub partner: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(default)]
    pub positive: Vec<PositiveExample>,
    #[serde(default)]
    pub negative: Vec<String>,
    /// For a rule with a `path`: the path its examples are scanned at.
    #[serde(default)]
    pub path: Option<String>,
    /// The example texts are base64 of the bytes to scan (a binary file), and a positive example's
    /// `secret` is what the finding carries (see [`RuleSpec::binary`]).
    #[serde(default)]
    pub base64: bool,
}

impl Examples {
    /// The bytes an example `text` stands for: the text itself, or what its base64 decodes to.
    pub fn bytes<'a>(&self, text: &'a str) -> Result<std::borrow::Cow<'a, [u8]>, base64::DecodeError> {
        use base64::Engine as _;
        if self.base64 {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map(std::borrow::Cow::Owned)
        } else {
            Ok(std::borrow::Cow::Borrowed(text.as_bytes()))
        }
    }
}

fn default_window() -> usize {
    256
}

fn default_true() -> bool {
    true
}

/// One rule as written in a rule file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub name: Text,
    pub severity: Severity,
    pub keywords: Arc<[Text]>,
    pub regex: Text,
    #[serde(default = "default_window")]
    pub window: usize,
    /// A regex over the file's path (`/`-separated, as the source names it): the rule runs only on files
    /// whose path it matches. With no keywords the rule's regex runs over the whole file (a file that
    /// exists to hold one secret: Rails' `config/master.key`).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// `min_entropy` is capped at what a random value of the secret's length and alphabet reaches, as it
    /// is for generic rules: for a rule whose values have no format of their own (a framework's
    /// `SECRET_KEY` may be hex, base64 or any printable text).
    #[serde(default)]
    pub entropy_floor: bool,
    /// Hand-typed stand-ins (`abcdef123456…`, `a1b2c3d4…`: the engine's `filter::is_stand_in`) are
    /// placeholders, not findings, as they are for generic rules. Other provider rules report a stand-in
    /// written in their exact format.
    #[serde(default)]
    pub refuse_stand_ins: bool,
    #[serde(default)]
    pub allow: Arc<[Text]>,
    /// Regexes over the match before the secret (the name and what joins it to the value): a match is
    /// no finding when one of them matches there. For a provider's public value that shares its
    /// secret's format and context word (`facebook_client_token` beside Facebook's app secret).
    #[serde(default)]
    pub allow_before: Arc<[Text]>,
    #[serde(default)]
    pub check: Option<Check>,
    #[serde(default = "default_true")]
    pub delimited: bool,
    #[serde(default)]
    pub verify: Option<String>,
    /// A data-driven live check (`[rule.verify_http]`), for providers with a simple "who am I" call.
    #[serde(default)]
    pub verify_http: Option<Box<crate::verify::http::HttpCheck>>,
    #[serde(default)]
    pub tags: Arc<[Text]>,
    /// The group `pkhound rules` and `docs/rules.md` list the rule under; every built-in rule has one.
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default)]
    pub references: Arc<[Text]>,
    #[serde(default)]
    pub description: Text,
    pub remediation: Text,
    #[serde(default)]
    pub examples: Examples,
    /// The capture group (by number) that holds the secret, for regexes without a `secret` group.
    #[serde(default)]
    pub secret_group: Option<usize>,
    /// With no `secret` group and no `secret_group`: the first non-empty capture group is the secret
    /// (gitleaks' rule). Set only by the gitleaks importer.
    #[serde(skip)]
    pub first_group: bool,
    /// The other half of a two-part credential (`[rule.pair]`): an AWS secret key's access key id, a
    /// Twilio auth token's account SID, an Azure account key's account name.
    #[serde(default)]
    pub pair: Option<PairSpec>,
    /// Rules whose match on exactly this rule's span is the same secret, better named by this rule: a
    /// provider's key that shares another provider's prefix (Clerk's `sk_live_` next to the word Clerk is not a
    /// Stripe key). Their match there is dropped, as is one decoded from inside this rule's match (a token
    /// that holds their secret encoded). A config's rule may supersede only the config's own rules
    /// (the loader drops other ids): it may not hide a built-in rule's finding behind one of its own.
    #[serde(default)]
    pub supersedes: Vec<String>,
    /// The secret is binary data (a whole key store file, matched by a path-gated rule): a finding
    /// carries its base64, so that reports, fingerprints and `--show-secrets` hold text. Its examples
    /// are given in base64 (`[rule.examples] base64 = true`).
    #[serde(default)]
    pub binary: bool,
}

/// How to find the other half of a two-part credential near a rule's secret. The finding names both parts
/// (the other one redacted too); a match of another rule on exactly that span is folded into it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSpec {
    /// What the other half is, for people: `access key id`, `account SID`, `account name`.
    pub label: String,
    /// Where it is: the capture group `part` (else the whole match). Same syntax as `regex`.
    pub regex: String,
    /// How far from the secret (bytes before its start or after its end) the other half may sit.
    #[serde(default = "default_pair_within")]
    pub within: usize,
    /// The rule reports a match only with its other half found: for a value whose name alone says too
    /// little (`secret_key = …` is AWS's beside an AWS access key id, and any framework's elsewhere).
    #[serde(default)]
    pub required: bool,
}

fn default_pair_within() -> usize {
    1024
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// A rule file that could not be loaded; every variant names the file and, where known, the rule.
#[derive(Debug, Error)]
pub enum RuleError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: rule `{rule}`: {message}")]
    Invalid {
        file: String,
        rule: String,
        message: String,
    },
    #[error("{file}: rule `{rule}`: duplicate rule id (first defined in {first})")]
    Duplicate { file: String, rule: String, first: String },
}

/// A parsed rule with the file it came from.
#[derive(Clone, Debug)]
pub struct LoadedRule {
    /// The rule file, as errors and listings name it.
    pub file: Text,
    pub spec: Spec,
    /// A built-in rule (not a config's): only built-in rules' matches on one span are folded into one
    /// finding, since a config's rule may not hide a built-in rule's finding (nor be hidden by one).
    pub builtin: bool,
}

/// Parses one rule file's text. `file` names it in errors.
pub fn parse_rule_file(file: &str, text: &str) -> Result<Vec<LoadedRule>, RuleError> {
    let parsed: RuleFile = toml::from_str(text).map_err(|e| RuleError::Parse {
        file: file.to_string(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let mut out = Vec::with_capacity(parsed.rule.len());
    for mut spec in parsed.rule {
        validate_spec(file, &mut spec)?;
        out.push(LoadedRule {
            file: Text::from(file),
            spec: spec.into(),
            builtin: false,
        });
    }
    Ok(out)
}

/// Checks a rule parsed from TOML, and expands the fragments its regex and pair regex call
/// (`(?&assign)`, `(?&aws_key_id)`, see [`fragment`]); the built-in rules' baked copies were expanded
/// at build time.
pub(crate) fn validate_spec(file: &str, spec: &mut RuleSpec) -> Result<(), RuleError> {
    let invalid = |message: String| RuleError::Invalid {
        file: file.to_string(),
        rule: spec.id.clone(),
        message,
    };
    let expand = |what: &str, regex: &str| fragment::expand(regex).map_err(|m| invalid(format!("{what}: {m}")));
    if let Some(expanded) = expand("regex", &spec.regex)? {
        spec.regex = Text::from(expanded);
    }
    if let Some(pair) = spec.pair.as_mut() {
        if let Some(expanded) = expand("pair regex", &pair.regex)? {
            pair.regex = expanded;
        }
    }
    let kebab = !spec.id.is_empty()
        && spec
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !spec.id.starts_with('-')
        && !spec.id.ends_with('-');
    if !kebab {
        return Err(invalid("id must be kebab-case (a-z, 0-9, -)".into()));
    }
    if (spec.keywords.is_empty() && spec.path.is_none()) || spec.keywords.iter().any(|k| k.len() < 2) {
        return Err(invalid(
            "keywords must list at least one literal of 2+ bytes (or the rule name a `path`)".into(),
        ));
    }
    if spec.window == 0 || spec.window > 1 << 20 {
        return Err(invalid("window must be between 1 and 1048576 bytes".into()));
    }
    if spec.remediation.trim().is_empty() {
        return Err(invalid("remediation must not be empty".into()));
    }
    if let Some(name) = spec.verify.as_deref().filter(|v| !crate::verify::NAMED.contains(v)) {
        return Err(invalid(format!("verify: unknown verifier `{name}` (known: klaviyo)")));
    }
    if let Some(check) = &spec.verify_http {
        check.validate().map_err(invalid)?;
    }
    Ok(())
}

/// All built-in rules, in file order, without their example texts (what a scan needs; see `build.rs`).
/// Built-in rule files are part of the program, so an error here is a bug that the rule-example test
/// catches before release.
pub fn builtin() -> Result<Vec<LoadedRule>, RuleError> {
    load_builtin(false)
}

/// All built-in rules with their examples, parsed from the rule files as written: for the rule-example
/// test and anything else that runs or shows examples.
pub fn builtin_with_examples() -> Result<Vec<LoadedRule>, RuleError> {
    load_builtin(true)
}

fn load_builtin(examples: bool) -> Result<Vec<LoadedRule>, RuleError> {
    // Sized once: a LoadedRule is most of a kilobyte, and growing the list by doubling copied them all
    // (a third of the heap a pre-commit hook touched).
    let mut all: Vec<LoadedRule> = Vec::with_capacity(BUILTIN_RULE_COUNT);
    // Parsed from the TOML, the ids are checked for repeats here. The baked copies are not checked again:
    // the same files parsed from TOML are (`builtin_with_examples`, which `cargo test` loads), and a test
    // holds the two copies equal.
    for (file, text, start) in BUILTIN_RULE_FILES {
        if examples {
            all.extend(
                parse_rule_file(file, text)?
                    .into_iter()
                    .map(|r| LoadedRule { builtin: true, ..r }),
            );
        } else {
            parse_baked(file, *start, &mut all)?;
        }
    }
    if !examples {
        return Ok(all);
    }
    // Rule id -> its first rule, borrowed: no id is copied.
    let mut seen = std::collections::HashMap::with_capacity(all.len());
    for rule in &all {
        if let Some(first) = seen.insert(rule.spec.id.as_str(), rule) {
            return Err(RuleError::Duplicate {
                file: rule.file.to_string(),
                rule: rule.spec.id.clone(),
                first: first.file.to_string(),
            });
        }
    }
    Ok(all)
}

/// Lists a built-in rule file's rules from its build-time tree (same schema), each read in full only when
/// something asks for more than its id, keywords or path ([`Spec`]). It is not validated again: the same
/// rules parsed from the TOML are (`builtin_with_examples`), and a test holds the two copies equal.
fn parse_baked(file: &'static str, start: u32, out: &mut Vec<LoadedRule>) -> Result<(), RuleError> {
    let error = |e: serde::de::value::Error| RuleError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    };
    let start = usize::try_from(start).expect("the baked tree is smaller than the address space");
    let text = Text::from_static(file);
    for at in baked::rule_offsets(BAKED_TREE, BAKED_STRINGS, start).map_err(error)? {
        let head: Head = baked::from_node(BAKED_TREE, BAKED_STRINGS, at).map_err(error)?;
        out.push(LoadedRule {
            file: text.clone(),
            spec: Spec(SpecRepr::Baked {
                at,
                file,
                head: Arc::new(head),
                full: OnceLock::new(),
            }),
            builtin: true,
        });
    }
    Ok(())
}

/// What a scan reads of every rule before any file is scanned: the rest of a built-in rule waits in the
/// baked tree until the rule is woken by its keyword (or a report, listing or config asks).
#[derive(Clone, Debug, Deserialize)]
struct Head {
    id: Text,
    #[serde(default)]
    keywords: Arc<[Text]>,
    #[serde(default)]
    path: Option<Text>,
    #[serde(default = "default_window")]
    window: usize,
}

/// A rule's definition ([`RuleSpec`], which it dereferences to). A built-in rule's is read from the baked
/// tree the first time something asks for more than [`Spec::id`], [`Spec::keywords`] or [`Spec::path`]:
/// a pre-commit hook wakes a handful of the hundreds of rules, and reading every rule in full was a
/// fifth of its time. Changing a built-in spec (a config's severity) reads it first.
#[derive(Clone)]
pub struct Spec(SpecRepr);

#[derive(Clone)]
enum SpecRepr {
    Ready(Box<RuleSpec>),
    Baked {
        /// Where the rule's table starts in `BAKED_TREE`.
        at: usize,
        file: &'static str,
        /// Shared by the copies an engine keeps: cloned at every start, never changed.
        head: Arc<Head>,
        full: OnceLock<Box<RuleSpec>>,
    },
}

impl Spec {
    pub fn id(&self) -> &str {
        match &self.0 {
            SpecRepr::Ready(spec) => &spec.id,
            SpecRepr::Baked { head, .. } => &head.id,
        }
    }

    pub fn keywords(&self) -> &Arc<[Text]> {
        match &self.0 {
            SpecRepr::Ready(spec) => &spec.keywords,
            SpecRepr::Baked { head, .. } => &head.keywords,
        }
    }

    pub fn path(&self) -> Option<&str> {
        match &self.0 {
            SpecRepr::Ready(spec) => spec.path.as_deref(),
            SpecRepr::Baked { head, .. } => head.path.as_deref(),
        }
    }

    /// How far around a keyword hit the rule's regex reads ([`RuleSpec::window`]), without reading a
    /// built-in spec in full: a staged scan's reach around the added lines needs every rule's.
    pub fn window(&self) -> usize {
        match &self.0 {
            SpecRepr::Ready(spec) => spec.window,
            SpecRepr::Baked { head, .. } => head.window,
        }
    }

    /// Whether this is a built-in rule's spec as baked (read or not), unchanged since.
    pub fn is_baked(&self) -> bool {
        matches!(self.0, SpecRepr::Baked { .. })
    }

    /// The whole spec, owned.
    pub fn into_inner(self) -> RuleSpec {
        match self.0 {
            SpecRepr::Ready(spec) => *spec,
            SpecRepr::Baked { at, file, head, full } => match full.into_inner() {
                Some(spec) => *spec,
                None => read_baked(at, file, &head),
            },
        }
    }
}

/// A built-in rule's regex as parsed at build time (`hir_codec.rs`), when `regex` is one (the text a
/// built-in rule's spec holds, not a copy): `None` for any other text, which the caller parses.
pub(crate) fn builtin_regex(regex: &Text) -> Option<regex_syntax::hir::Hir> {
    let start = regex.pool_start()?;
    let word = |entry: &[u8; 12], k: usize| u32::from_le_bytes([entry[k], entry[k + 1], entry[k + 2], entry[k + 3]]);
    let (entries, _) = BAKED_REGEX_INDEX.as_chunks::<12>();
    let entry = &entries[entries.binary_search_by_key(&start, |e| word(e, 0)).ok()?];
    (word(entry, 4) as usize == regex.len()).then(|| hir_codec::decode(BAKED_REGEX_TREES, word(entry, 8) as usize))?
}

/// A built-in rule's spec from the baked tree; from its rule file's TOML should the tree not read (the
/// tree is this build's own output, and a test reads every rule from both: neither happens).
fn read_baked(at: usize, file: &str, head: &Head) -> RuleSpec {
    if let Ok(spec) = baked::from_node::<RuleSpec>(BAKED_TREE, BAKED_STRINGS, at) {
        return spec;
    }
    BUILTIN_RULE_FILES
        .iter()
        .filter(|(name, _, _)| *name == file)
        .filter_map(|(name, text, _)| parse_rule_file(name, text).ok())
        .flatten()
        .find(|r| r.spec.id() == head.id.as_str())
        .map(|r| r.spec.into_inner())
        .unwrap_or_else(|| panic!("built-in rule `{}` of {file} does not load", head.id))
}

impl From<RuleSpec> for Spec {
    fn from(spec: RuleSpec) -> Spec {
        Spec(SpecRepr::Ready(Box::new(spec)))
    }
}

impl std::ops::Deref for Spec {
    type Target = RuleSpec;

    fn deref(&self) -> &RuleSpec {
        match &self.0 {
            SpecRepr::Ready(spec) => spec,
            SpecRepr::Baked { at, file, head, full } => full.get_or_init(|| Box::new(read_baked(*at, file, head))),
        }
    }
}

impl std::ops::DerefMut for Spec {
    fn deref_mut(&mut self) -> &mut RuleSpec {
        if let SpecRepr::Baked { at, file, head, full } = &mut self.0 {
            let spec = full.take().unwrap_or_else(|| Box::new(read_baked(*at, file, head)));
            self.0 = SpecRepr::Ready(spec);
        }
        match &mut self.0 {
            SpecRepr::Ready(spec) => spec,
            SpecRepr::Baked { .. } => unreachable!("a baked spec was just made ready"),
        }
    }
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        RuleSpec::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_parse() {
        let rules = builtin().expect("built-in rules load");
        assert!(rules.iter().any(|r| r.spec.id == "klaviyo-private-key"));
    }

    /// Every built-in rule's regex is parsed at build time, and its tree is the one a parse of its text at
    /// run time gives (the engine builds a built-in rule from the former, a config's from the latter).
    #[test]
    fn baked_regex_trees_are_the_regexes_parsed() {
        let rules = builtin().expect("built-in rules load");
        let mut baked = 0;
        for r in &rules {
            let parsed = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(&r.spec.regex)
                .expect("a built-in regex parses");
            let tree = builtin_regex(&r.spec.regex).unwrap_or_else(|| panic!("{}: no baked tree", r.spec.id));
            assert_eq!(tree, parsed, "{}", r.spec.id);
            baked += 1;
        }
        assert_eq!(baked, BUILTIN_RULE_COUNT);
        // A copy of the text, as a config holds, is not taken for a built-in regex.
        let copy = Text::from(rules[0].spec.regex.to_string());
        assert!(builtin_regex(&copy).is_none());
    }

    /// The build-time copy a scan loads is the rule files minus example texts: same rules, every field
    /// equal (compared through `Debug`, which shows them all).
    #[test]
    fn baked_builtin_rules_match_the_rule_files() {
        let baked = builtin().expect("built-in rules load");
        let full = builtin_with_examples().expect("built-in rules load with examples");
        assert_eq!(baked.len(), full.len());
        for (b, f) in baked.iter().zip(&full) {
            assert_eq!(b.file, f.file);
            assert!(b.spec.is_baked() && b.builtin);
            // What a scan reads of every rule before any is woken: the rule's own, before and after the
            // rest is read.
            let head = |s: &Spec| {
                let path = s.path().map(str::to_string);
                (s.id().to_string(), s.keywords().to_vec(), path, s.window())
            };
            assert_eq!(head(&b.spec), head(&f.spec), "{}", f.spec.id);
            let mut expected = f.spec.clone();
            expected.examples.negative.clear();
            for p in &mut expected.examples.positive {
                p.text = Text::default();
            }
            assert_eq!(format!("{:?}", b.spec), format!("{expected:?}"), "{}", f.spec.id);
            assert_eq!(head(&b.spec), head(&f.spec), "{}", f.spec.id);
            // Changing a baked spec reads it first, and it is a built-in spec as built no more.
            let mut changed = b.clone();
            changed.spec.severity = crate::finding::Severity::Low;
            assert!(!changed.spec.is_baked());
            assert_eq!(changed.spec.regex.as_str(), f.spec.regex.as_str());
            assert_eq!(head(&changed.spec), head(&f.spec));
        }
    }

    #[test]
    fn every_superseded_rule_exists() {
        let rules = builtin_with_examples().expect("built-in rules load");
        let ids: std::collections::HashSet<&str> = rules.iter().map(|r| r.spec.id.as_str()).collect();
        let bad: Vec<String> = rules
            .iter()
            .flat_map(|r| r.spec.supersedes.iter().map(move |s| (r, s)))
            .filter(|(r, s)| !ids.contains(s.as_str()) || *s == &r.spec.id)
            .map(|(r, s)| format!("{}: {} supersedes `{s}`", r.file, r.spec.id))
            .collect();
        assert!(bad.is_empty(), "supersedes names no other rule:\n{}", bad.join("\n"));
    }

    #[test]
    fn every_builtin_rule_has_a_category_and_a_reference() {
        let bad: Vec<String> = builtin_with_examples()
            .expect("built-in rules load")
            .iter()
            .filter(|r| r.spec.category.is_none() || r.spec.references.is_empty())
            .map(|r| format!("{}: {}", r.file, r.spec.id))
            .collect();
        assert!(
            bad.is_empty(),
            "built-in rules without category or references:\n{}",
            bad.join("\n")
        );
    }

    #[test]
    fn parse_error_names_the_file_and_line() {
        let err = parse_rule_file("bad.toml", "[[rule]]\nid = \"x\"\nname = 3\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("bad.toml: "), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn unknown_field_is_an_error() {
        let text = r#"
[[rule]]
id = "x-y"
name = "X"
severity = "low"
keywords = ["ab"]
regex = "ab"
remediation = "r"
colour = "blue"
"#;
        let msg = parse_rule_file("f.toml", text).unwrap_err().to_string();
        assert!(msg.contains("colour"), "{msg}");
    }

    #[test]
    fn bad_id_is_an_error() {
        let text = "[[rule]]\nid = \"Bad_Id\"\nname = \"X\"\nseverity = \"low\"\nkeywords = [\"ab\"]\nregex = \"ab\"\nremediation = \"r\"\n";
        let msg = parse_rule_file("f.toml", text).unwrap_err().to_string();
        assert_eq!(msg, "f.toml: rule `Bad_Id`: id must be kebab-case (a-z, 0-9, -)");
    }
}
