//! Structural checks that turn "looks like a token" into "is a well-formed token".

use crate::finding::hmac;
use crate::rules::Check;
use base64::Engine as _;
use sha2::Digest as _;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Whether `secret` passes a rule's structural `check`.
pub fn passes(check: Check, secret: &[u8]) -> bool {
    match check {
        Check::GithubCrc32 | Check::NpmCrc32 => crc32_base62_suffix(secret),
        Check::GrafanaCrc32 => crc32_hex_suffix(secret),
        Check::AwsKeyId => aws_key_id(secret),
        Check::Jwt => jwt(secret),
        Check::Jwe => jwe(secret),
        Check::Bip39 => bip39(secret),
        Check::BasicAuth => basic_auth(secret),
        Check::HumanPassword | Check::CsvPasswordColumn => human_password(secret),
        Check::BitlockerRecovery => bitlocker_recovery(secret),
        Check::GenericPassword => generic_password(secret),
        Check::Cephx => cephx(secret),
        Check::Base64Secret => base64_secret(secret),
        Check::RandomKeyBytes => random_key_bytes(secret),
        Check::CiscoType7 => cisco_type7(secret).is_some(),
        Check::CryptHash => !bcrypt_test_cost(secret),
        Check::JetbrainsScramble => jetbrains_unscramble(secret).is_some(),
        Check::Pkcs12 => pkcs12(secret),
        Check::JavaKeystore => java_keystore(secret),
        Check::Base58checkKey => base58check_key(secret),
        Check::SolanaSecretKey => base58_decode(secret).is_some_and(|bytes| bytes.len() == 64),
        // Only its surroundings tell ([`passes_at`]).
        Check::UsedAsCredential => true,
    }
}

/// Whether the secret at `hay[start..end]` passes `check`: [`passes`], and for the checks that read the
/// secret's surroundings, what is around it.
pub fn passes_at(check: Check, hay: &[u8], start: usize, end: usize) -> bool {
    passes(check, &hay[start..end])
        && !(check == Check::CryptHash && (documented_return_value(hay, start) || configured_hash(hay, start)))
        && (check != Check::UsedAsCredential || used_as_credential(hay, start, end))
}

/// How far past an assigned literal [`Check::UsedAsCredential`] looks for its use. A rule with that check
/// has a window wider than this (a test checks it): the use's keyword then seeds a window that holds the
/// assignment, so a history scan that reads only around an edit (`engine::near`) finds what a full scan
/// finds.
pub const USE_REACH: usize = 1024;

/// A line longer than this is a minified bundle's (for [`used_as_credential`]'s one-letter names).
const MINIFIED_LINE: usize = 400;

/// Whether the literal at `hay[start..end]`, assigned to a name, is used as a credential under that name
/// within [`USE_REACH`] bytes after it ([`Check::UsedAsCredential`]).
fn used_as_credential(hay: &[u8], start: usize, end: usize) -> bool {
    use std::sync::LazyLock;
    // What stands on a use's line right before the name (its qualifier, `self.`/`HC.`/`$`, taken off).
    static SINK: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(concat!(
            r#"(?i-u)(?:"#,
            // A bearer (or token, Basic) scheme before it: interpolated, concatenated or formatted.
            r#"(?:^|[^a-z0-9_])(?:bearer|token|basic)[ \t]*(?:\$\{|#\{|\{\{?[ \t]*|\\?["'`][ \t]*\)?[ \t]*(?:\+|\.|<>|\.\.)[ \t]*|%s\\?["'`][ \t]*[,%][ \t]*\(?[ \t]*)"#,
            // A shell's `"Bearer $T"` (its `$` taken off), `curl -u user:$K`, `--password $K`, a URL's
            // password (`https://ci:$K@host`).
            r#"|(?:^|[^a-z0-9_])bearer[ \t]+|(?:^|[ \t])(?:-u|--user)[ \t]+["']?[^\s:"']{0,60}:|--(?:password|token|api-key|access-token)[ \t]+["']?|[a-z][a-z0-9+.-]{1,15}://[^\s:/@"']{1,60}:"#,
            // A credential-named field, argument or header, assigned or passed it.
            r#"|(?:^|[^a-z0-9])(?:[a-z0-9]+[_-])*?(?:client[_-]?secret|secret(?:[_-]?(?:access[_-]?)?key)?|api[_-]?(?:key|token|secret)|apikey|access[_-]?(?:token|key)|auth[_-]?(?:token|key)|bearer[_-]?token|token|password|passwd|private[_-]?key|signing[_-]?(?:key|secret)|license[_-]?key|subscription[_-]?key|x-api-key|authorization|app[_-]?secret|consumer[_-]?secret|master[_-]?key|routing[_-]?key|integration[_-]?key|pass)"#,
            r#"(?:\\?["'`]?[ \t]*\]?[ \t]*(?::=|=>|=|:)|\\?["'`][ \t]*,)[ \t]*[ \t]*\\?["'`]?(?:\[\]byte\(|&|\*|str\(|string\(|\$?\{|#\{)?"#,
            // A query parameter that carries a key (`?key=${pk}`, `&access_token={tok}`).
            r#"|[?&](?:key|api[_-]?key|apikey|token|access[_-]?token|appid|auth|secret)=(?:\$?\{|#\{)?"#,
            // A registry login's password.
            r#"|(?:docker|podman|nerdctl|helm(?:[ \t]+registry)?)[ \t]+login\b[^\n]{0,160}(?:-p|--password)[ \t=]+["']?"#,
            // The key of an HMAC or a JWT signature, a Basic credential's password.
            r#"|(?:hmac\.new|createhmac|hmac\.(?:hex)?digest|hash_hmac|secretkeyspec|hmacshakeyfor|algorithm\.hmac(?:256|384|512)|jw[st][a-z]*\.(?:encode|decode|sign|verify)|signer\.create)[ \t]*\([^)\n]{0,120}"#,
            // A Basic credential's password: the second argument (the first is the user's name).
            r#"|(?:httpbasicauth|setbasicauth|basic_?auth|(?:^|[^a-z0-9_])auth[ \t]*=[ \t]*)[ \t]*\([^,)\n]{1,80},[ \t]*"#,
            // Twilio's client: the account's SID, then the auth token; an AWS SDK's static credentials: the
            // key id, then the secret key.
            r#"|(?:twilio[a-z:._]*|(?:new[ \t]+)?(?:aws\.)?credentials(?:::new|\.new)?|basicawscredentials|(?:credentials\.)?newstaticcredentials(?:provider)?|staticcredentialsprovider(?:::new|\.new)?)[ \t]*\([ \t]*[a-z0-9_.$@]+[ \t]*,[ \t]*"#,
            // A Basic credential put together: `user:` and then the password.
            r#"|(?:base64_encode|btoa|b64encode|strict_encode64|encode64)[ \t]*\([^)\n]{0,80}:\\?["'`][ \t]*(?:\.|\+)[ \t]*"#,
            r#")$"#
        ))
        .expect("the sink pattern compiles")
    });
    let Some(name) = assigned_name(hay, start) else {
        return false;
    };
    // A name that says what the value is (`API_TOKEN`, `paddleToken`) is the other generic rules' to
    // judge, with the public values they know (a client-side token, a publishable key).
    let lower = name.to_ascii_lowercase();
    let says = [&b"token"[..], b"secret", b"passw", b"apikey", b"api_key", b"credential"];
    if says.iter().any(|w| memchr::memmem::find(&lower, w).is_some()) {
        return false;
    }
    // A one-letter name on a long line is a minified bundle's, reused for anything (a script's `T=…` is
    // not).
    if name.iter().filter(|b| b.is_ascii_alphanumeric()).count() < 2 {
        let line_start = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |n| n + 1);
        let line_end = memchr::memchr(b'\n', &hay[end..]).map_or(hay.len(), |n| end + n);
        if line_end - line_start > MINIFIED_LINE {
            return false;
        }
    }
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let stop = end.saturating_add(USE_REACH).min(hay.len());
    let mut from = end;
    while let Some(i) = memchr::memmem::find(&hay[from..stop], name) {
        let at = from + i;
        from = at + name.len();
        // Inside a longer name (a `$` before it is a shell's or PHP's, taken off below).
        if (at > 0 && word(hay[at - 1])) || hay.get(from).is_some_and(|&b| word(b)) {
            continue;
        }
        let line = memchr::memrchr(b'\n', &hay[..at])
            .map_or(0, |n| n + 1)
            .max(at.saturating_sub(160));
        let mut before = &hay[line..at];
        // `$`, `@`, `self.`, `HC.`, `Config::`, `this->`: the name read from an object or a scope.
        // A shell's, a Makefile's or a batch file's reference: `$(NAME)`, `${NAME}`, `%NAME%`.
        before = before
            .strip_suffix(b"$(")
            .or_else(|| before.strip_suffix(b"${"))
            .or_else(|| before.strip_suffix(b"$"))
            .or_else(|| before.strip_suffix(b"@"))
            .or_else(|| before.strip_suffix(b"%"))
            .unwrap_or(before);
        loop {
            const SEPARATORS: [&[u8]; 3] = [b".", b"::", b"->"];
            let Some(sep) = SEPARATORS.iter().find(|s| before.ends_with(s)) else {
                break;
            };
            let head = &before[..before.len() - sep.len()];
            let q = head.iter().rposition(|&b| !word(b)).map_or(0, |p| p + 1);
            if q == head.len() {
                break;
            }
            before = &head[..q];
            before = before.strip_suffix(b"$").unwrap_or(before);
        }
        // `echo "$RS" | docker login … --password-stdin`: the rest of the line reads it as a password.
        let line_end = memchr::memchr(b'\n', &hay[from..]).map_or(hay.len(), |n| from + n);
        let after = &hay[from..line_end.min(from + 200)];
        if SINK.is_match(before) || memchr::memmem::find(after, b"--password-stdin").is_some() {
            return true;
        }
    }
    false
}

/// The name a literal starting at `start` (after its opening quote) is assigned to: `NAME = "`, `NAME := "`,
/// `const NAME: string = "`, `name: "` (an object's field), `$name = '`.
fn assigned_name(hay: &[u8], start: usize) -> Option<&[u8]> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    let mut i = start;
    // The opening quote (escaped in a notebook's JSON), a literal's prefix (`b"`, `@"`).
    while i > 0 && matches!(hay[i - 1], b'"' | b'\'' | b'`' | b'\\') {
        i -= 1;
    }
    if i > 0 && matches!(hay[i - 1], b'b' | b'r' | b'u' | b'B' | b'R' | b'U' | b'@') && i >= 2 && !word(hay[i - 2]) {
        i -= 1;
    }
    let skip_blank = |mut i: usize| {
        while i > 0 && matches!(hay[i - 1], b' ' | b'\t') {
            i -= 1;
        }
        i
    };
    i = skip_blank(i);
    // `=`, `:=`, `:`.
    if i > 0 && hay[i - 1] == b'=' {
        i -= 1;
        // `:=`, and a Makefile's `?=` and `+=`.
        if i > 0 && matches!(hay[i - 1], b':' | b'?' | b'+') {
            i -= 1;
        } else if i > 0 && matches!(hay[i - 1], b'=' | b'!' | b'<' | b'>') {
            return None;
        }
    } else if i > 0 && hay[i - 1] == b':' {
        i -= 1;
    } else {
        return None;
    }
    i = skip_blank(i);
    let mut name_end = i;
    let mut name_start = hay[..name_end].iter().rposition(|&b| !word(b)).map_or(0, |p| p + 1);
    // `const cs: string = "…"`: the type is the word read; the name stands before its `:`.
    let mut before = skip_blank(name_start);
    // Rust's `&str`, `&[u8]`.
    if before > 0 && hay[before - 1] == b'&' {
        before = skip_blank(before - 1);
    }
    if name_start < name_end && before > 0 && hay[before - 1] == b':' && !hay[name_start].is_ascii_digit() {
        let j = skip_blank(before - 1);
        let k = hay[..j].iter().rposition(|&b| !word(b)).map_or(0, |p| p + 1);
        if k < j {
            (name_start, name_end) = (k, j);
        }
    }
    let name = &hay[name_start..name_end];
    let first = *name.iter().find(|&&b| b != b'$')?;
    (first.is_ascii_alphabetic() || first == b'_').then_some(name)
}

/// True when the crypt hash at `start` is where a configuration is meant to carry a password as a hash:
/// the value of a password-named setting (Ansible's and Puppet's `user` `password`, cloud-init's
/// `passwd:`/`hashed_passwd:`, Argo CD's `admin.password`, an admin UI's `password:`, a seed's
/// `password_digest`), kickstart's `--iscrypted`, preseed's `…-crypted password`. The tool that reads it
/// never needs the password, and that form is what its documentation asks for; an account database's
/// line (`root:$6$…`, an `.htpasswd`'s `user:$apr1$…`) or a bare hash is still reported.
fn configured_hash(hay: &[u8], start: usize) -> bool {
    let line_start = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |i| i + 1);
    let line = hay[line_start..start].to_ascii_lowercase();
    if memchr::memmem::find(&line, b"--iscrypted").is_some() || memchr::memmem::find(&line, b"-crypted").is_some() {
        return true;
    }
    // `name: "`, `name = '`, `name => "`, `--password=`: the setting's name right before the value.
    let before = line.trim_ascii_end();
    let before = before
        .strip_suffix(b"\"")
        .or_else(|| before.strip_suffix(b"'"))
        .unwrap_or(before);
    super::filter::assigned_word(before).is_some_and(|word| {
        [&b"password"[..], b"passwd", b"pwd", b"digest", b"hash"]
            .iter()
            .any(|w| word.ends_with(w))
    })
}

/// A JetBrains IDE's scrambled password decoded ([`Check::JetbrainsScramble`]): IntelliJ's
/// `StringUtil.scramble` writes each character as 4 hex digits of its code XORed with `0xDFAA`, so an ASCII
/// character is `df` + a byte. Like Cisco's type 7 it is an encoding: the decoded text is the password.
/// `None` unless every group decodes to printable ASCII, which random `df..` hex rarely does (about 3 in
/// 8 per character).
fn jetbrains_unscramble(secret: &[u8]) -> Option<Vec<u8>> {
    if secret.is_empty() || !secret.len().is_multiple_of(4) {
        return None;
    }
    secret
        .chunks_exact(4)
        .map(|group| {
            let text = std::str::from_utf8(group).ok()?;
            let code = u16::from_str_radix(text, 16).ok()? ^ 0xDFAA;
            u8::try_from(code).ok().filter(|b| (0x20..0x7f).contains(b))
        })
        .collect()
}

/// Bcrypt at cost 04 or less: the test cost frameworks use in test environments and show in their
/// documentation (Rails' `MIN_COST`), never what a system stores.
fn bcrypt_test_cost(secret: &[u8]) -> bool {
    matches!(
        secret,
        [b'$', b'2', b'a' | b'b' | b'x' | b'y', b'$', b'0', b'0'..=b'4', b'$', ..]
    )
}

/// True when the value at `start` is documentation of what a call returns: `=>` just before it (a quote
/// and spaces between), after `#` or `//` or on a comment line (`user.password_digest # => "$2a$10$…"`,
/// `// => '…'`), as Ruby's, JavaScript's and many READMEs' API docs show return values. A value a program
/// stores is assigned, not shown after `=>` in a comment.
fn documented_return_value(hay: &[u8], start: usize) -> bool {
    let line_start = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |i| i + 1);
    let line = &hay[line_start..start];
    let before = line
        .strip_suffix(b"\"")
        .or_else(|| line.strip_suffix(b"'"))
        .unwrap_or(line)
        .trim_ascii_end();
    let Some(arrow) = before.strip_suffix(b"=>") else {
        return false;
    };
    // `expr # => value` (Ruby's and IRB's notation, in code and in guides) or a whole comment line.
    let arrow = arrow.trim_ascii_end();
    let code = line.trim_ascii_start();
    arrow.ends_with(b"#")
        || arrow.ends_with(b"//")
        || code.starts_with(b"#")
        || code.starts_with(b"//")
        || code.starts_with(b"*")
}

/// The fixed key Cisco IOS XORs type 7 passwords with, from the offset the first two digits give.
const CISCO_XLAT: &[u8] = b"dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87";

/// A Cisco type 7 password decoded ([`Check::CiscoType7`]): two decimal digits (the offset into
/// [`CISCO_XLAT`], 00 to 15 as IOS writes them) then hex pairs, each XORed with the next key byte. Type 7 is
/// an encoding, not encryption: the decoded text is the password. `None` unless every byte decodes to
/// printable ASCII, which random hex of 4 pairs or more does about once in 2^8.
pub fn cisco_type7(secret: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(secret).ok()?;
    if text.len() < 4 || !text.len().is_multiple_of(2) {
        return None;
    }
    let seed: usize = text.get(..2)?.parse().ok()?;
    if seed > 15 {
        return None;
    }
    let hex = &text[2..];
    let mut out = Vec::with_capacity(hex.len() / 2);
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        let plain = byte ^ CISCO_XLAT[(seed + i) % CISCO_XLAT.len()];
        if !(0x20..0x7f).contains(&plain) {
            return None;
        }
        out.push(plain);
    }
    Some(out)
}

/// A PKCS #12 key store holding a private key ([`Check::Pkcs12`]), as DER bytes or as base64 text
/// (line breaks, indentation and `\n` escapes between its lines are skipped). RFC 7292's
/// `PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, … }`, and somewhere in it the OID of a
/// keyBag or pkcs8ShroudedKeyBag (1.2.840.113549.1.12.10.1.1 or .2). The bags' types are in the clear
/// even when the key is encrypted (OpenSSL, Java's keytool and Windows all write them so); a truststore's
/// certificate bags are not key bags, and its encrypted contents show none.
pub fn pkcs12(secret: &[u8]) -> bool {
    const KEY_BAG: &[u8] = &[0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01];
    let decoded;
    let der = if secret.first() == Some(&0x30) {
        secret
    } else {
        decoded = match decode_wrapped_base64(secret) {
            Some(d) => d,
            None => return false,
        };
        &decoded[..]
    };
    let body = match der {
        [0x30, 0x80, rest @ ..] | [0x30, 0x81, _, rest @ ..] => rest,
        [0x30, 0x82, _, _, rest @ ..] | [0x30, 0x83, _, _, _, rest @ ..] => rest,
        _ => return false,
    };
    body.starts_with(&[0x02, 0x01, 0x03, 0x30])
        && memchr::memmem::find_iter(body, KEY_BAG).any(|i| matches!(body.get(i + KEY_BAG.len()), Some(1 | 2)))
}

/// A Java key store that holds a key ([`Check::JavaKeystore`]): JKS (magic `FEEDFEED`) or JCEKS
/// (`CECECECE`), version 1 or 2, whose entries, read in turn, reach a private-key entry (tag 1) or a
/// JCEKS secret-key entry (tag 3) before they end; trusted certificates (tag 2) are skipped. A
/// truststore holds only those.
pub fn java_keystore(secret: &[u8]) -> bool {
    let mut r = Reader(secret);
    let (Some(magic), Some(version), Some(count)) = (r.u32(), r.u32(), r.u32()) else {
        return false;
    };
    if !matches!(magic, 0xFEED_FEED | 0xCECE_CECE) || !matches!(version, 1 | 2) {
        return false;
    }
    for _ in 0..count {
        // Tag, alias (a length-prefixed string) and creation time (milliseconds).
        let (Some(tag), Some(_), Some(_)) = (r.u32(), r.string(), r.take(8)) else {
            return false;
        };
        match tag {
            1 | 3 => return true,
            // A trusted certificate: its type (version 2) and its encoding.
            2 if (version == 1 || r.string().is_some()) && r.blob().is_some() => {}
            _ => return false,
        }
    }
    false
}

/// Big-endian reads from the front of a byte slice, as Java's `DataInputStream` writes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A `writeUTF` string: a u16 length, then that many bytes.
    fn string(&mut self) -> Option<&'a [u8]> {
        let len = self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))?;
        self.take(usize::from(len))
    }
    /// A u32 length, then that many bytes.
    fn blob(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()?;
        self.take(usize::try_from(len).ok()?)
    }
}

/// Base64 text that may be wrapped (line breaks and indentation, or `\n` escapes in a JSON string)
/// decoded, as [`crate::decode::decode_base64`] decodes a run (padding optional).
fn decode_wrapped_base64(text: &[u8]) -> Option<Vec<u8>> {
    let mut clean = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\\' if matches!(text.get(i + 1), Some(b'n' | b'r')) => i += 1,
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b => clean.push(b),
        }
        i += 1;
    }
    let mut out = Vec::new();
    crate::decode::decode_base64(&clean, &mut out).then_some(out)
}

/// Base64 of a symmetric key ([`Check::RandomKeyBytes`]): 16, 32 or 64 bytes, of which at least a quarter
/// fall outside printable ASCII and at least half are distinct. Random bytes are printable 37% of the time
/// (all 16 of a key: about 1 in 10^7); base64 of text (`this is a passphrase`) is all printable.
pub fn random_key_bytes(secret: &[u8]) -> bool {
    use base64::Engine as _;
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(secret) else {
        return false;
    };
    if !matches!(raw.len(), 16 | 32 | 64) {
        return false;
    }
    let binary = raw.iter().filter(|b| !(0x20..0x7f).contains(*b)).count();
    binary * 4 >= raw.len() && super::filter::distinct_bytes(&raw) * 2 >= raw.len()
}

/// A base64 value that encodes a secret ([`Check::Base64Secret`]), as a Kubernetes Secret's `data` holds
/// every value: a private key (not a certificate), a registry login (`.dockerconfigjson` with an `auth`
/// or `password`), or one line that [`human_password`] accepts and that is not a placeholder, an address
/// without credentials (`tcp://127.0.0.1:5705`), a number or an e-mail address.
pub fn base64_secret(secret: &[u8]) -> bool {
    use base64::Engine as _;
    if !secret.len().is_multiple_of(4) {
        return false;
    }
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(secret) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&raw) else {
        return false;
    };
    let text = text.trim_end_matches(['\r', '\n']);
    if text.starts_with("-----BEGIN ") {
        return text.contains("PRIVATE KEY-----");
    }
    if text.starts_with('{') {
        return (text.contains("\"auth\":\"") && !text.contains("\"auth\":\"\""))
            || (text.contains("\"password\":\"") && !text.contains("\"password\":\"\""));
    }
    // A connection string (`Server=…;User ID=…;Password=…;`, ODBC's `PWD={…}`): its password field.
    if let Some(password) = connection_string_password(text) {
        return !super::filter::is_placeholder(password.as_bytes()) && password_like(password.as_bytes(), true);
    }
    let b = text.as_bytes();
    if b.is_empty() || b.iter().any(|c| !c.is_ascii_graphic()) || super::filter::is_placeholder(b) {
        return false;
    }
    let address = text.contains("://") && !text.contains('@');
    let number = b.iter().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b':' | b'-'));
    let email = text.contains('@') && text.contains('.') && !text.contains("://") && !text.contains(':');
    !address && !number && !email && password_like(b, true)
}

/// The password field of an ADO.NET, JDBC-style or ODBC connection string (`…;Password=…;`, `PWD={…}`),
/// when the text is one: fields separated by `;`, the password's name `password` or `pwd`.
fn connection_string_password(text: &str) -> Option<&str> {
    if !text.contains(';') {
        return None;
    }
    text.split(';').find_map(|field| {
        let (name, value) = field.split_once('=')?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().trim_matches(|c| matches!(c, '{' | '}' | '"' | '\''));
        (matches!(name.as_str(), "password" | "pwd") && !value.is_empty()).then_some(value)
    })
}

/// A cephx key ([`Check::Cephx`]): 28 bytes in base64, a little-endian u16 type of 1 (AES), the creation
/// time (u32 seconds, u32 nanoseconds) and a u16 length of 16 before the 16-byte secret. The two fixed
/// fields leave about one random 40-character base64 value in 2^32 passing.
pub fn cephx(secret: &[u8]) -> bool {
    use base64::Engine as _;
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(secret) else {
        return false;
    };
    raw.len() == 28 && raw[..2] == [1, 0] && raw[10..12] == [16, 0] && raw[12..].iter().any(|&b| b != 0)
}

/// Below this many characters a password is judged by its mix of character classes, not its entropy: an
/// 11-character value cannot reach a random key's entropy (log2 11 < 3.5 bits per character).
const SHORT_PASSWORD: usize = 12;
/// The longest value judged by its classes: past this, only the entropy test.
const LONG_PASSWORD: usize = 24;
/// The entropy a long password needs, before `entropy_threshold` caps it at what random values of its
/// shape reach (the generic rules' 3.5).
const PASSWORD_ENTROPY: f64 = 3.5;

/// A BitLocker recovery password ([`Check::BitlockerRecovery`]): eight `-`-separated blocks of six
/// digits, each divisible by 11 and below 720,896 (11 × 65,536), and not all zero.
fn bitlocker_recovery(secret: &[u8]) -> bool {
    let blocks: Vec<u32> = secret
        .split(|&b| b == b'-')
        .filter_map(|block| std::str::from_utf8(block).ok()?.parse().ok())
        .collect();
    blocks.len() == 8 && blocks.iter().all(|&n| n % 11 == 0 && n < 720_896) && blocks.iter().any(|&n| n != 0)
}

/// A password a person chose ([`Check::HumanPassword`]). From 12 characters: the generic rules' entropy
/// test, or, up to 24, all four classes of lower case, upper case, digits and symbols. From 8 to 11: at
/// least three of the four. Either way no character making up more than a third of it (`Aa1!Aa1!`,
/// `A1!aaaaaaa`) and no camelCase identifier.
pub fn human_password(secret: &[u8]) -> bool {
    password_like(secret, false)
}

/// [`Check::GenericPassword`]: a digitless value with at most one mark (`!#%^&*?~@$=+`) is a word with a
/// mark or a name (`MyStrongPassword!`, `@previous_password`) unless its case is scrambled; anything else
/// is judged as [`human_password`].
pub fn generic_password(secret: &[u8]) -> bool {
    let marks = secret.iter().filter(|b| b"!#%^&*?~@$=+".contains(b)).count();
    if secret.iter().any(u8::is_ascii_digit) || marks > 1 {
        return human_password(secret);
    }
    secret.len() >= SHORT_PASSWORD
        && secret.len() <= LONG_PASSWORD
        && super::filter::distinct_bytes(secret) >= secret.len() / 2 + 2
        && scrambled_case(secret)
}

/// Whether capitals are scattered through `secret` as in a generated value: three or more "words" (a run
/// of capitals and the lower-case run after it) with one to three capitals and at most two lower-case
/// letters (`Tk`, `DE`, `Xz`), where words people write have longer lower-case runs (`My`, `Strong`,
/// `Password`) and names in capitals longer capital runs (`ALL_CAPS`).
fn scrambled_case(secret: &[u8]) -> bool {
    let (upper, lower) = (
        secret.iter().filter(|b| b.is_ascii_uppercase()).count(),
        secret.iter().filter(|b| b.is_ascii_lowercase()).count(),
    );
    if upper < 3 || lower < 3 {
        return false;
    }
    let mut short = 0;
    let mut i = 0;
    while i < secret.len() {
        if !secret[i].is_ascii_uppercase() {
            i += 1;
            continue;
        }
        let caps = secret[i..].iter().take_while(|b| b.is_ascii_uppercase()).count();
        let smalls = secret[i + caps..].iter().take_while(|b| b.is_ascii_lowercase()).count();
        if caps <= 3 && smalls <= 2 {
            short += 1;
        }
        i += caps + smalls;
    }
    short >= 3
}

/// [`human_password`]'s test; `decoded` says the value was decoded from base64, where a camelCase value
/// cannot be a variable's name.
fn password_like(secret: &[u8], decoded: bool) -> bool {
    use super::filter::{entropy_threshold, shannon_entropy};
    let n = secret.len();
    if n >= SHORT_PASSWORD && shannon_entropy(secret) >= entropy_threshold(PASSWORD_ENTROPY, secret, true) {
        return true;
    }
    // A short value ending in base64's padding is an encoding (`bXBhc3M=`), not what a person typed.
    if n < 8 || (!decoded && secret.ends_with(b"=")) {
        return false;
    }
    let classes = [
        secret.iter().any(u8::is_ascii_lowercase),
        secret.iter().any(u8::is_ascii_uppercase),
        secret.iter().any(u8::is_ascii_digit),
        secret.iter().any(|b| b.is_ascii_punctuation()),
    ];
    let mut counts = [0usize; 256];
    for &b in secret {
        counts[b as usize] += 1;
    }
    let most = counts.iter().max().copied().unwrap_or(0);
    let distinct = super::filter::distinct_bytes(secret);
    // A camelCase identifier (`no2FaPass`, `userPass1`) is a variable holding the password, not the password.
    // Its capitals open words: a capital followed by a digit, or more than two digits, is a generated value
    // (`kT9vQ2mZ4xW`), as random passwords that start in lower case are.
    let identifier = !decoded
        && secret[0].is_ascii_lowercase()
        && secret.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        && secret.iter().filter(|b| b.is_ascii_digit()).count() <= 2
        && !secret
            .windows(2)
            .any(|w| w[0].is_ascii_uppercase() && w[1].is_ascii_digit());
    // From 12 characters a password people chose (`Mailpass1234!`) falls short of a random key's entropy;
    // one that mixes all four classes, up to a passphrase's length, is still one.
    // Three classes do from 12 on when capitals are scattered as a generator scatters them
    // (`Dw3QxaDHDR4nEA`), not opening words (`Mailpass1234`).
    let needed = if n < SHORT_PASSWORD || scrambled_case(secret) {
        3
    } else {
        4
    };
    !identifier
        && n <= LONG_PASSWORD
        && classes.iter().filter(|&&c| c).count() >= needed
        && most * 3 <= n
        && distinct >= n / 2 + 2
}

/// An HTTP Basic credential: base64 of `user:password` in printable ASCII, with a password that is not a
/// stand-in (`password`, `secret`, `changeme`, `pass123`) and not RFC 7617's `Aladdin:open sesame`. The
/// user may be empty (`:token`, as Azure DevOps and several APIs take a token).
pub fn basic_auth(secret: &[u8]) -> bool {
    let engine = &base64::engine::general_purpose::STANDARD_NO_PAD;
    let trimmed = secret
        .strip_suffix(b"==")
        .or_else(|| secret.strip_suffix(b"="))
        .unwrap_or(secret);
    let Ok(decoded) = engine.decode(trimmed) else {
        return false;
    };
    if !decoded.iter().all(|b| (0x20..0x7f).contains(b)) {
        return false;
    }
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
    // An API key sent as the user name with an empty password (Greenhouse's Harvest API, Stripe's,
    // Mailchimp's): the key is the whole credential.
    if password.trim_ascii().is_empty() {
        return key_as_user(user);
    }
    if password.len() < 4 || (user == b"Aladdin" && password == b"open sesame") {
        return false;
    }
    let lower = password.to_ascii_lowercase();
    const STAND_INS: &[&[u8]] = &[
        b"password",
        b"passwd",
        b"pass",
        b"secret",
        b"changeme",
        b"test",
        b"admin",
        b"root",
        b"guest",
        b"user",
        b"demo",
        b"letmein",
        b"qwerty",
        b"token",
    ];
    let stem = lower.trim_ascii_end();
    let stem = &stem[..stem.iter().rposition(|b| !b.is_ascii_digit()).map_or(0, |i| i + 1)];
    !STAND_INS.contains(&stem) && !super::filter::is_placeholder(password)
}

/// A user name that is an API key: 20 to 128 characters of a token alphabet, with letters and digits,
/// random-looking, not a stand-in.
fn key_as_user(user: &[u8]) -> bool {
    (20..=128).contains(&user.len())
        && user
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && user.iter().any(u8::is_ascii_digit)
        && user.iter().any(u8::is_ascii_alphabetic)
        && super::filter::shannon_entropy(user) >= 3.3
        && !super::filter::is_placeholder(user)
}

/// The BIP-39 English word list (2,048 words, sorted), as the standard publishes it (bitcoin/bips,
/// `bip-0039/english.txt`, MIT License).
const BIP39_ENGLISH: &str = include_str!("bip39-english.txt");

/// A BIP-39 mnemonic (a wallet's recovery phrase): 12, 15, 18, 21 or 24 words of the English list,
/// separated by single spaces, whose last bits are the checksum the standard defines (the first
/// `words / 3` bits of the SHA-256 of the entropy the other bits encode). A sentence of list words
/// passes the checksum once in 16 (12 words) to once in 256 (24 words); every wallet's phrase passes.
pub fn bip39(secret: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(secret) else {
        return false;
    };
    let words: Vec<&str> = text.split(' ').collect();
    if !matches!(words.len(), 12 | 15 | 18 | 21 | 24) {
        return false;
    }
    static LIST: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let list = LIST.get_or_init(|| BIP39_ENGLISH.lines().map(str::trim).collect());
    let mut bits = Vec::with_capacity(words.len() * 11);
    for word in &words {
        let Ok(index) = list.binary_search(word) else {
            return false;
        };
        bits.extend((0..11).rev().map(|i| (index >> i) & 1 == 1));
    }
    let checksum_bits = words.len() / 3;
    let (entropy_bits, checksum) = bits.split_at(bits.len() - checksum_bits);
    let entropy: Vec<u8> = entropy_bits
        .chunks(8)
        .map(|byte| byte.iter().fold(0u8, |acc, &bit| (acc << 1) | u8::from(bit)))
        .collect();
    let hash = sha2::Sha256::digest(&entropy);
    checksum
        .iter()
        .enumerate()
        .all(|(i, &bit)| ((hash[i / 8] >> (7 - i % 8)) & 1 == 1) == bit)
}

/// Bitcoin's base58 (no `0`, `O`, `I`, `l`) decoded to bytes, each leading `1` a zero byte; `None` for
/// a character outside the alphabet or a value too long to be a key (over 128 characters).
pub fn base58_decode(text: &[u8]) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    if text.is_empty() || text.len() > 128 {
        return None;
    }
    // Little-endian base-256 digits of the number, built one base58 digit at a time.
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
    for &c in text {
        let mut carry = ALPHABET.iter().position(|&a| a == c)? as u32;
        for b in bytes.iter_mut() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = text.iter().take_while(|&&c| c == b'1').count();
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

/// A WIF key or a BIP-32 extended private key in base58check ([`Check::Base58checkKey`]).
///
/// [`Check::Base58checkKey`]: crate::rules::Check::Base58checkKey
pub fn base58check_key(secret: &[u8]) -> bool {
    let Some(data) = base58_decode(secret) else {
        return false;
    };
    let Some((payload, checksum)) = data.split_last_chunk::<4>() else {
        return false;
    };
    let hash = sha2::Sha256::digest(sha2::Sha256::digest(payload));
    if hash[..4] != checksum[..] {
        return false;
    }
    let wif = matches!(payload.first(), Some(0x80 | 0xef))
        && (payload.len() == 33 || (payload.len() == 34 && payload[33] == 0x01));
    // Version bytes of a main-net (`xprv`) or test-net (`tprv`) extended private key.
    let extended = payload.len() == 78
        && matches!(payload[..4], [0x04, 0x88, 0xad, 0xe4] | [0x04, 0x35, 0x83, 0x94])
        && payload[45] == 0x00;
    wif || extended
}

/// GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`) tokens end in a checksum: the last six
/// characters are the CRC32 of the 30 characters before them, in base62, zero-padded.
pub fn crc32_base62_suffix(secret: &[u8]) -> bool {
    let Some(sep) = secret.iter().rposition(|&b| b == b'_') else {
        return false;
    };
    let token = &secret[sep + 1..];
    if token.len() != 36 {
        return false;
    }
    let (body, sum) = token.split_at(30);
    base62_6(crc32fast::hash(body)) == sum
}

/// Grafana service account tokens end in a checksum: the 8 lower-case hex digits after the last `_` are
/// the CRC32 of all before it (`glsa_` and the 32 random characters), its bytes little-endian (Grafana's
/// `satokengen`).
pub fn crc32_hex_suffix(secret: &[u8]) -> bool {
    let Some(sep) = secret.iter().rposition(|&b| b == b'_') else {
        return false;
    };
    let (body, sum) = (&secret[..sep], &secret[sep + 1..]);
    let want: String = crc32fast::hash(body)
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    sum == want.as_bytes()
}

/// An AWS access key id with a current prefix (`AKIA`, `ASIA`, `ABIA`, `ACCA`) has 16 base32 characters
/// after it (`A`-`Z`, `2`-`7`: they encode the account id; trufflesecurity's research, gitleaks #1324), so
/// a `0`, `1`, `8` or `9` there is an identifier that happens to start with `AKIA`, or a made-up id. Other
/// values (`A3T` ids) pass.
pub fn aws_key_id(secret: &[u8]) -> bool {
    let current = [&b"AKIA"[..], b"ASIA", b"ABIA", b"ACCA"]
        .iter()
        .any(|p| secret.starts_with(p));
    !current || secret[4..].iter().all(|b| matches!(b, b'A'..=b'Z' | b'2'..=b'7'))
}

/// A JWT: three dot-separated base64url parts; header and payload are JSON objects; the header's `alg`
/// is present and not `none`; the signature is not empty.
pub fn jwt(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if signature.is_empty() {
        return false;
    }
    let Some(serde_json::Value::Object(h)) = json_part(header) else {
        return false;
    };
    let Some(alg) = h.get("alg").and_then(|a| a.as_str()) else {
        return false;
    };
    let Some(serde_json::Value::Object(claims)) = json_part(payload) else {
        return false;
    };
    // A token for PostgREST's anonymous role is public by design: Supabase's anon key ships in every
    // browser client (`createClient(url, anonKey)`), and grants what row-level security lets anyone do.
    if alg.eq_ignore_ascii_case("none") || claims.get("role").and_then(|r| r.as_str()) == Some("anon") {
        return false;
    }
    let signed = secret.len() - signature.len() - 1;
    !signed_with_published_secret(alg, &secret[..signed], signature)
}

/// A JOSE part (a JWT's or JWE's header, a JWT's claims): base64url, padded or not, of JSON.
fn json_part(part: &[u8]) -> Option<serde_json::Value> {
    let trimmed: &[u8] = part
        .strip_suffix(b"==")
        .or_else(|| part.strip_suffix(b"="))
        .unwrap_or(part);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A compact JWE: `header.key.iv.ciphertext.tag`, the header JSON with `alg` and `enc`; only the
/// encrypted key may be empty (direct encryption).
pub fn jwe(secret: &[u8]) -> bool {
    let parts: Vec<&[u8]> = secret.split(|&b| b == b'.').collect();
    let [header, _key, iv, ciphertext, tag] = parts[..] else {
        return false;
    };
    if iv.is_empty() || ciphertext.is_empty() || tag.is_empty() {
        return false;
    }
    let Some(serde_json::Value::Object(h)) = json_part(header) else {
        return false;
    };
    h.get("enc").is_some_and(|e| e.is_string()) && h.get("alg").is_some_and(|a| a.is_string())
}

/// HMAC keys that documentation publishes: jwt.io's default keys, old and current. A token they sign can
/// be forged by anyone who reads jwt.io, so it grants nothing a reader could not mint, and it is how
/// documentation examples are made. (The bare word `secret` is not here: development tokens signed with
/// it turn up in real repositories, and they are findings.)
const PUBLISHED_HMAC_KEYS: &[&[u8]] = &[
    b"your-256-bit-secret",
    b"your-384-bit-secret",
    b"your-512-bit-secret",
    b"a-string-secret-at-least-256-bits-long",
    // Supabase's self-hosting `.env.example` (`JWT_SECRET`), which signs its published demo keys.
    b"super-secret-jwt-token-with-at-least-32-characters-long",
];

/// True when `signature` is the HS256/384/512 HMAC of `signed` (`header.payload`) under a published key.
fn signed_with_published_secret(alg: &str, signed: &[u8], signature: &[u8]) -> bool {
    use sha2::{Sha256, Sha384, Sha512};
    let Ok(signature) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let mac = |key: &[u8]| -> Vec<u8> {
        match alg {
            "HS256" => hmac::<Sha256>(key, &[signed]).to_vec(),
            "HS384" => hmac::<Sha384>(key, &[signed]).to_vec(),
            "HS512" => hmac::<Sha512>(key, &[signed]).to_vec(),
            _ => Vec::new(),
        }
    };
    matches!(alg, "HS256" | "HS384" | "HS512") && PUBLISHED_HMAC_KEYS.iter().any(|key| mac(key) == signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github_token(prefix: &str, body: &str) -> String {
        let sum = base62_6(crc32fast::hash(body.as_bytes()));
        format!("{prefix}{body}{}", std::str::from_utf8(&sum).unwrap())
    }

    #[test]
    fn base58check_keys() {
        for key in [
            // WIF: uncompressed, compressed, test-net; an extended private key.
            "5HxSbhVVRCBVui65wk9chY11PgjfKcCAs5oxP1Rxf6noMFqRJBV",
            "L2P3d2b3pqY4mWBaQLeBrH1c9h16763H1jCHvJUCwgjnXm79rjve",
            "cPZpxsQgMFRoi1LntbqS6y6rfwQnyfTZk1vMUtfYmhRVWvYML91C",
            "xprv9zNdYMnZkubEUxVrBtympeAsfEB1AMxM6gky7mD4LEq6UwvGSBoit38cvoviiazZgA1bxH8MVdBeQMoaqJSmip4NXsyutEFzQXVSDbWcHrV",
        ] {
            assert!(base58check_key(key.as_bytes()), "{key}");
        }
        for value in [
            // A checksum off by one character, an extended public key, a character outside base58.
            "5JATXdMTATAzpGppQwHb4BknsopfGdjyYcrGCJg9Bq5MqEoVEg2",
            "xpub6CWDYkz6oHfd1oLP7jk9iCTvFxg6ZQuzoDVMx4hGc5Ngcs3tA9g3GTAvxfjnKZgEadAvugk1podiCvaSJB6qmEdmJZ8qbFcdBuTApKKptET",
            "5HxSbhVVRCBVui65wk9chY11PgjfKcCAs5oxP1Rxf6noMFqRJB0",
        ] {
            assert!(!base58check_key(value.as_bytes()), "{value}");
        }
        assert_eq!(
            base58_decode(b"4XStovHWyMrDjvxa8coSzN8W7XyxvMCfYzofgdP1uoQiiYRpH1fmxyzroY9NqeSeyxx8pguaFKGPqM2ZB5D7PGEG")
                .map(|b| b.len()),
            Some(64)
        );
        assert_eq!(
            base58_decode(b"9ZQgTc8aRsijtawABqJMZ78aTcXVFmK4FzbRAfhkVuBF").map(|b| b.len()),
            Some(32)
        );
        assert_eq!(base58_decode(b"1112"), Some(vec![0, 0, 0, 1]));
    }

    #[test]
    fn bip39_words_and_checksum() {
        // BIP-39's own test vectors (128 and 256 bits of entropy) and phrases from a wallet generator.
        for phrase in [
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
            "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
            "lunch bag program adjust cover time casual math pause rail make volcano",
        ] {
            assert!(bip39(phrase.as_bytes()), "{phrase}");
        }
        for phrase in [
            // The checksum is wrong, a word is not in the list, the count is not a multiple of 3.
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon",
            "lunch bag program adjust cover time casual math pause rail make volcanos",
            "lunch bag program adjust cover time casual math pause rail make",
            "lunch  bag program adjust cover time casual math pause rail make volcano",
        ] {
            assert!(!bip39(phrase.as_bytes()), "{phrase}");
        }
        assert_eq!(BIP39_ENGLISH.lines().count(), 2048);
    }

    #[test]
    fn checksum_roundtrip() {
        let t = github_token("ghp_", "Zq8vK2mN4pR7tW1xY3bC5dF9gH0jL6");
        assert!(crc32_base62_suffix(t.as_bytes()), "{t}");
        let mut bad = t.into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert!(!crc32_base62_suffix(&bad));
        assert!(!crc32_base62_suffix(b"ghp_short"));
    }

    #[test]
    fn aws_key_ids_after_a_current_prefix_are_base32() {
        assert!(aws_key_id(b"AKIAWW7VB7XQRJAZEDLQ"));
        assert!(aws_key_id(b"ASIAE4SWMQS7TNGCZFJ6"));
        // 0, 1, 8 and 9 are not base32 digits.
        assert!(!aws_key_id(b"AKIAWGXZ9OPDOWUJMZGI"));
        assert!(!aws_key_id(b"ASIAIOSFODNN7LXM10JI"));
        // An early `A3T` id keeps the wider alphabet.
        assert!(aws_key_id(b"A3TXK7Q2MZRP4VNW8JCL"));
    }

    #[test]
    fn grafana_checksum() {
        // Grafana's own test vector (pkg/components/satokengen).
        assert!(crc32_hex_suffix(b"glsa_iNValIdinValiDinvalidinvalidinva_5b582697"));
        assert!(!crc32_hex_suffix(b"glsa_iNValIdinValiDinvalidinvalidinva_5b582698"));
        assert!(!crc32_hex_suffix(b"glsa_iNValIdinValiDinvalidinvalidinva_5B582697"));
        assert!(!crc32_hex_suffix(b"glsa_iNValIdinValiDinvalidinvalidinvb_5b582697"));
        assert!(!crc32_hex_suffix(b"glsa5b582697"));
    }

    #[test]
    fn jwe_shape() {
        // {"alg":"dir","enc":"A128GCM"}, empty key, then IV, ciphertext and tag.
        let h = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"dir","enc":"A128GCM"}"#);
        assert!(jwe(format!(
            "{h}..aXZpdml2aXZpdg.Y2lwaGVydGV4dGNpcGhlcg.dGFndGFndGFndGFn"
        )
        .as_bytes()));
        assert!(!jwe(format!("{h}..aXZpdml2aXZpdg..dGFndGFndGFndGFn").as_bytes()));
        assert!(!jwe(format!("{h}.aXY.Y2lwaGVy.dGFn").as_bytes()));
        // A JWS header (no `enc`) is not a JWE.
        let jws = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
        assert!(!jwe(format!("{jws}.a2V5.aXY.Y2lwaGVy.dGFn").as_bytes()));
    }

    #[test]
    fn jwt_shape() {
        // {"alg":"HS256","typ":"JWT"} . {"sub":"1234567890"} . HMAC under a key of our own
        let good = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.7707EVCucj8ciDXXOJs8u5DKIQkM286b5tUZzr3ndEE"; // pkhound:allow
        assert!(jwt(good));
        // {"alg":"none"}
        let none = b"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2ln";
        assert!(!jwt(none));
        assert!(!jwt(
            b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        ));
        assert!(!jwt(b"eyJub3QganNvbg.eyJ.x"));
        // {"iss":"supabase-demo","role":"anon",…}: PostgREST's anonymous role, public by design.
        assert!(!jwt(b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.7707EVCucj8ciDXXOJs8u5DKIQkM286b5tUZzr3ndEE"));
        // {"iss":"supabase-demo","role":"service_role",…} signed with Supabase's published demo secret.
        assert!(!jwt(b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU"));
        // The same claims under a key of our own: a real service-role key.
        let service_role = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.7707EVCucj8ciDXXOJs8u5DKIQkM286b5tUZzr3ndEE"; // pkhound:allow
        assert!(jwt(service_role));
    }

    /// RFC 4231 test case 2 (key `Jefe`) for each digest: the hand-written HMAC is the standard one.
    #[test]
    fn hmac_matches_rfc_4231() {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let msg = b"what do ya want for nothing?";
        assert_eq!(
            hex(&hmac::<sha2::Sha256>(b"Jefe", &[msg])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hex(&hmac::<sha2::Sha384>(b"Jefe", &[msg])).starts_with("af45d2e376484031617f78d2b58a6b1b"));
        assert!(hex(&hmac::<sha2::Sha512>(b"Jefe", &[msg])).starts_with("164b7a7bfcf819e2e395fbe73b56e0a3"));
    }

    #[test]
    fn tokens_signed_with_a_published_key_are_examples() {
        // jwt.io's classic example, signed with `your-256-bit-secret`.
        let doc = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"; // pkhound:allow
        assert!(!jwt(doc));
        // The same token with one signature character changed is no longer signed by that key.
        let mut other = doc.to_vec();
        let last = other.len() - 2;
        other[last] = b'A';
        assert!(jwt(&other));
    }

    #[test]
    fn cisco_type7_passwords_decode() {
        // Cisco's documented example, and a password encoded from two seeds.
        assert_eq!(cisco_type7(b"0822455D0A16").as_deref(), Some(b"cisco".as_slice()));
        assert_eq!(cisco_type7(b"02050D480809").as_deref(), Some(b"cisco".as_slice()));
        assert_eq!(cisco_type7(b"094F471A1A0A").as_deref(), Some(b"cisco".as_slice()));
        // Odd length, seed over 15, not hex, or bytes that decode to control characters.
        for bad in ["0822455D0A1", "5322455D0A16", "08ZZ455D0A16", "08FFFFFFFFFF", "08"] {
            assert!(cisco_type7(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn jetbrains_scrambled_passwords_decode() {
        // What IntelliJ writes for `SuperSeecretPassword!` (Plazmaz/leaky-repo's `.idea/WebServers.xml`).
        let scrambled = b"dff9dfdfdfdadfcfdfd8dff9dfcfdfcfdfc9dfd8dfcfdfdedffadfcbdfd9dfd9dfdddfc5dfd8dfcedf8b";
        assert_eq!(
            jetbrains_unscramble(scrambled).as_deref(),
            Some(b"SuperSeecretPassword!".as_slice())
        );
        // Not a whole number of groups, not hex, a control character, a character past ASCII.
        for bad in ["dff9dfd", "dff9zzzz", "dfaadff9", "0041dff9", ""] {
            assert!(jetbrains_unscramble(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn generic_passwords() {
        for p in ["kTkKrDE@WwulXz", "qywuVt_YIHabPD@u", "xQpLmRvTsNbK", "Rechnung*8870"] {
            assert!(generic_password(p.as_bytes()), "{p}");
        }
        for p in [
            "MyStrongPassword!",
            "@previous_password",
            "ALL_CAPS_SETTING_NAME",
            "iPhoneXSMaxCase",
            "XMLHttpRequestFactory",
            "ThisIsMyPassword",
        ] {
            assert!(!generic_password(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn bitlocker_recovery_passwords() {
        assert!(bitlocker_recovery(
            b"679415-468831-074635-062975-429352-587323-055638-631433"
        ));
        // A block that is no multiple of 11, or past 720,896.
        assert!(!bitlocker_recovery(
            b"679416-468831-074635-062975-429352-587323-055638-631433"
        ));
        assert!(!bitlocker_recovery(
            b"999999-468831-074635-062975-429352-587323-055638-631433"
        ));
        assert!(!bitlocker_recovery(
            b"000000-000000-000000-000000-000000-000000-000000-000000"
        ));
    }

    #[test]
    fn configured_hashes() {
        let hash = "$6$B1VEJGSHIuesGYjx$Kiccw7dPgLSeWELqQo/u2pYsjiPjjjDKFL3qoZFx6u99lG6srzp6UCJ6eA5ZUB926xXkoqbiup.OZvoNsa6AG0";
        let at = |text: &str| configured_hash(text.as_bytes(), text.find("$6$").unwrap());
        assert!(at(&format!("rootpw --iscrypted {hash}")));
        assert!(at(&format!("d-i passwd/user-password-crypted password {hash}")));
        assert!(at(&format!("    passwd: \"{hash}\"")));
        assert!(at(&format!("  password       => '{hash}',")));
        assert!(at(&format!("  admin.password: \"{hash}\"")));
        // An account database's line, or a hash alone, is a leak.
        assert!(!at(&format!("root:{hash}:19723:0:99999:7:::")));
        assert!(!at(hash));
        assert!(!at(&format!("auth: \"ops:{hash}\"")));
    }

    #[test]
    fn human_passwords() {
        for p in [
            "Pass123!@#",
            "Rrhh1234",
            "`123QWERasdf",
            "1qay@WXS??",
            "esx1Root#22",
            "Vm7!kQ2pz",
            "kT9vQ2mZ4xW",
            "hW4rB7nQ",
        ] {
            assert!(human_password(p.as_bytes()), "{p}");
        }
        // Short: one or two classes, a character repeated through it, or under 8 characters.
        for p in [
            "4ian1234",
            "password12",
            "Aa1!Aa1!",
            "aaaaA1!b",
            "Ab1!xyz",
            "12345678",
            "no2FaPass",
            "userPass12",
            "dbPassword1",
            "bXBhc3M=",
        ] {
            assert!(!human_password(p.as_bytes()), "{p}");
        }
        // Long: the generic entropy test, or three classes with capitals scattered through it.
        assert!(human_password(b"kQ8#vLm2Zr7!Tw4x"));
        assert!(human_password(b"Dw3QxaDHDR4nEA"));
        assert!(!human_password(b"Mailpass1234"));
        assert!(!human_password(b"aaaabbbbccccdddd1"));
    }

    #[test]
    fn cephx_keys() {
        assert!(cephx(b"AQBEgeFpaLkBABAAajWcgoG0JfI7XTaxr0U+vg=="));
        // Same shape, wrong length field; wrong type; not base64 of 28 bytes.
        assert!(!cephx(b"AQBEgeFpaLkBABEAajWcgoG0JfI7XTaxr0U+vg=="));
        assert!(!cephx(b"AgBEgeFpaLkBABAAajWcgoG0JfI7XTaxr0U+vg=="));
        assert!(!cephx(b"AQBEgeFpaLkBABAAajWcgoG0JfI7XTaxr0U+"));
    }

    #[test]
    fn a_literal_is_known_by_its_use() {
        let used = |code: &str| {
            let start = code.find("Zq8v").expect("the value");
            used_as_credential(code.as_bytes(), start, start + 24)
        };
        let v = "Zq8vK2mN4pR7tW1xLm9PtZk4";
        for code in [
            format!("const k2: string = \"{v}\";\nfetch(u, {{ headers: {{ authorization: `Bearer ${{k2}}` }} }});"),
            format!("cs := \"{v}\"\nreq.Header.Set(\"Authorization\", \"Bearer \"+cs)"),
            format!("$sk = '{v}';\n$sig = hash_hmac('sha256', $body, $sk);"),
            format!("val kSec = \"{v}\"\nval spec = SecretKeySpec(kSec.toByteArray(), \"HmacSHA256\")"),
            format!("AUTH = \"{v}\"\nr = requests.get(u, auth=(\"api\", AUTH))"),
            format!("T1 = \"{v}\"\nclient = Client(api_key=settings.T1)"),
            format!("private val sk = \"{v}\"\nJwtCirce.encode(claim, sk, alg)"),
            format!("T1 = \"{v}\"\nclient = Twilio::REST::Client.new(S, T1)"),
            format!("$cs = '{v}';\n$auth = 'Basic ' . base64_encode($ck . ':' . $cs);"),
            format!("T={v}\ncurl -s -H \"Authorization: Bearer $T\" https://api.example.com/v1/me"),
            format!("K='{v}'\ngit clone https://ci:$K@git.example.com/app.git"),
            format!("$tk = \"{v}\"\n$h = @{{ Authorization = \"Bearer $tk\" }}"),
            format!("P := {v}\nupload:\n\tcurl -fsS -u $(U):$(P) --upload-file app.jar $(NEXUS)"),
            format!("set TK={v}\r\ncurl -s -u %SID%:%TK% https://api.twilio.com/2010-04-01/Accounts.json\r\n"),
            format!("  RS  = '{v}'\n  sh 'echo \"$RS\" | docker login \"$REG\" -u \"$RU\" --password-stdin'"),
            format!(
                "rk={v}\ncurl -d @- https://events.pagerduty.com/v2/enqueue <<EOF\n{{\"routing_key\": \"$rk\"}}\nEOF"
            ),
            format!("const pk = \"{v}\";\nconst u = `https://api.example.com/v2/?key=${{pk}}&id=${{id}}`;"),
            format!("const SK: &str = \"{v}\";\nlet creds = Credentials::new(AK, SK, None, None, \"edge\");"),
            format!("set \"S={v}\"\r\nset AWS_SECRET_ACCESS_KEY=%S%\r\n"),
            format!("nb_tok = \"{v}\"\nurl = f\"{{BASE}}/people?limit=100&access_token={{nb_tok}}\""),
        ] {
            assert!(used(&code), "{code}");
        }
        for code in [
            // Used, but not as a credential; a longer name; only before the value; a compared digest.
            format!("cs = \"{v}\"\nlog.info(\"id %s\", cs)"),
            format!("cs = \"{v}\"\nheaders = {{\"Authorization\": f\"Bearer {{cs2}}\"}}"),
            format!("headers = {{\"Authorization\": f\"Bearer {{cs}}\"}}\ncs = \"{v}\""),
            format!("EXPECTED = \"{v}\"\nhmac.compare_digest(sig, EXPECTED)"),
            // A one-letter name on a minified bundle's line.
            format!("var r=\"{v}\",o=function(e){{return e}};{}r.token=r;", "x".repeat(400)),
            // A Basic credential's user name.
            format!("bk = \"{v}\"\nreq.SetBasicAuth(bk, bid)"),
            // A Twilio client's first argument is the account's SID.
            format!("S1 = \"{v}\"\nclient = Twilio::REST::Client.new(S1, T1)"),
            // Named for what it is: the other generic rules judge it.
            format!("API_TOKEN = \"{v}\"\nheaders = {{\"Authorization\": f\"Bearer {{API_TOKEN}}\"}}"),
            // Too far below it.
            format!(
                "cs = \"{v}\"\n{}\nheaders = {{\"Authorization\": f\"Bearer {{cs}}\"}}",
                "#\n".repeat(600)
            ),
        ] {
            assert!(!used(&code), "{code}");
        }
    }

    #[test]
    fn base64_secrets() {
        use base64::Engine as _;
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for v in [
            "sCaleio123",
            "AQDCzQ9bMqZ3ABAAyj7jX0vKHqY8cN2wRmTgPeLfSu1h4A==",
            "Zq8vK2mN4pR7tW1x",
            "Server=tcp:db.example.net,1433;Initial Catalog=guests;User ID=app;Password=tGP3MhAEbVZ1EW$iLBwko;Encrypt=True;",
            "Driver={ODBC Driver 18};Server=db;Uid=app;PWD={Wq8v!R2xLm9Pt};",
        ] {
            assert!(base64_secret(enc(v).as_bytes()), "{v}");
        }
        for v in [
            "mypassword",
            "quobyte",
            "tcp://127.0.0.1:5705",
            "admin@example.com",
            "5432",
            "password",
            "",
            "Server=db;Initial Catalog=app;User Id=sa;Password=${SA_PASSWORD};",
        ] {
            assert!(!base64_secret(enc(v).as_bytes()), "{v}");
        }
        assert!(base64_secret(
            enc("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n").as_bytes()
        ));
        assert!(!base64_secret(
            enc("-----BEGIN CERTIFICATE-----\nMIIE\n-----END CERTIFICATE-----\n").as_bytes()
        ));
        assert!(base64_secret(
            enc(r#"{"auths":{"ghcr.io":{"auth":"Ym90OnE4WHYyTG1SdDdLejRQd04="}}}"#).as_bytes()
        ));
        // Not base64 of text.
        assert!(!base64_secret(b"////////////"));
        assert!(!base64_secret(b"abc"));
    }

    #[test]
    fn pkcs12_key_stores_with_a_key() {
        use base64::Engine as _;
        // `openssl pkcs12 -export -nocerts` of a throwaway P-256 key; a truststore (`-nokeys -certpbe NONE`).
        let key = "MIIBKwIBAzCB8gYJKoZIhvcNAQcBoIHkBIHhMIHeMIHbBgkqhkiG9w0BBwGggc0EgcowgccwgcQGCyqGSIb3DQEMCgECoIG0MIGxMBwGCiqGSIb3DQEMAQMwDgQI3z7fm0paQm0CAggABIGQPDDkMQmV7/ViBblwjZ0p58TvN2G2h0OAlKuB34youkA0Vcy/uoR5Dp6FzzE1uaw305dqYfMEi20V3cyKFIq47WcxDF1HxeqbUWPi4zRbgwz2/YZDvg4QBbvho1du/CpdrPDKqHD173Jy9r9tkWrW2+B83Y2ioy+C//sz0L4m7zxnepuZtLVWe7Njz+QgoPNcMDEwITAJBgUrDgMCGgUABBQM2ykg8VIZu9Dt42RYIyJltRxkHQQI/ja79Nfka24CAggA";
        let trust = "MIICNwIBAzCCAe0GCSqGSIb3DQEHAaCCAd4EggHaMIIB1jCCAdIGCSqGSIb3DQEHAaCCAcMEggG/MIIBuzCCAbcGCyqGSIb3DQEMCgEDoIIBpjCCAaIGCiqGSIb3DQEJFgGgggGSBIIBjjCCAYowggEvoAMCAQICFC1hbuKxcIwW0mZQC5iOAdZiz3ieMAoGCCqGSM49BAMCMBoxGDAWBgNVBAMMD3BraG91bmQtZXhhbXBsZTAeFw0yNjEyMDMxOTQxNTJaFw0zNjExMzAxOTQxNTJaMBoxGDAWBgNVBAMMD3BraG91bmQtZXhhbXBsZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABDo6t572PuLlP0JGDEkT6xAE09QhLC/4pmyt8GlRXdo5zyL8QW9n5elagqNbME5eYa+nO5oIt/3VxpfImF7/KDWjUzBRMB0GA1UdDgQWBBTEf2Q2o7ijyvpCzB9Eo0hUTLcwMzAfBgNVHSMEGDAWgBTEf2Q2o7ijyvpCzB9Eo0hUTLcwMzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDW10fQuZzaPPGkNtuqiiTPvjdWPfFnaWSu41Yg/ELnjQIhAKFtcumSBAc6wpAcj8XQ6NDU2N/ecKW7eMhh7w5KctU4MEEwMTANBglghkgBZQMEAgEFAAQglzQuHkA0IhH0Qq5XJJVPJtHNE0yak8dc98LyqCg+QdIECH2o8AxagHRTAgIIAA==";
        let der = base64::engine::general_purpose::STANDARD
            .decode(key)
            .expect("valid base64");
        assert!(pkcs12(&der), "DER bytes");
        assert!(pkcs12(key.as_bytes()), "base64");
        let wrapped: Vec<String> = key
            .as_bytes()
            .chunks(64)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        assert!(pkcs12(wrapped.join("\n    ").as_bytes()), "wrapped and indented");
        assert!(pkcs12(wrapped.join("\\n").as_bytes()), "JSON `\\n` escapes");
        assert!(pkcs12(key.trim_end_matches('=').as_bytes()), "unpadded");
        assert!(!pkcs12(trust.as_bytes()), "certificates only");
        assert!(!pkcs12(&key.as_bytes()[..64]), "the first line alone holds no key bag");
        let mut v2 = der.clone();
        v2[6] = 2;
        assert!(!pkcs12(&v2), "PFX version 2");
        assert!(!pkcs12(b""));
        assert!(!pkcs12(b"0"));
    }

    #[test]
    fn java_key_stores_with_a_key() {
        use base64::Engine as _;
        let decode = |s: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .expect("valid base64")
        };
        // keytool -storetype JKS: a trusted certificate, then a private key; a truststore.
        let key = decode(
            "/u3+7QAAAAIAAAACAAAAAgADY2EyAAABoj1/s7oABVguNTA5AAADETCCAw0wggH1oAMCAQICFHPDavYpEf3vOe/Y4WgVBkR3\
            Y1SYMA0GCSqGSIb3DQEBCwUAMBYxFDASBgNVBAMMC3BraG91bmQtcnNhMB4XDTI2MTIwMzE5NDMxMloXDTM2MTEzMDE5NDMx\
            MlowFjEUMBIGA1UEAwwLcGtob3VuZC1yc2EwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDYE4Hg48qwrIj/iJ63\
            MbLRDM6+z5WXAR3AgO0xmhrX8r8LXfkqfYNQftBkffTrZ2HdvaI6j8jVjxqcllzs+GEsHkFRePfDP4JmdjMj37e//l7c9aDu\
            hnkgOwBGd4oOJD76aF9LQavEsCobpUuxjbND/RG23TYSf1iycpUFZRL98FXXH27WPlD4HLGczEqi3/AEylay91fJP0+XEPyf\
            uUhTsHj5MbB2hxiW0wiNVYBGz7fL1qZUfHvC4Jd44YRvLyul9ac+F2XgMv9ooG02aFxm+M0sF8Ys5LroA5EyZwoM6k+fyNfq\
            rIWLD+/DcUpkiVBKdxc3/q2dWYOA9OFrYiXJAgMBAAGjUzBRMB0GA1UdDgQWBBSy6qylM4dJ3TQwEzEhirTw2RnBODAfBgNV\
            HSMEGDAWgBSy6qylM4dJ3TQwEzEhirTw2RnBODAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQCLbwmE5Bfg\
            AoAeTt6gFAlftR7mx13JUHXNr1xHYkCNMRxsjbfrge6PcHySEwz+1inWWqcoCLsk935MgeJLgSP1ZJIrgb9mpKJAY00+dt0N\
            KUSfGN1y4fZnMZAu7+/fwh+opahHHvxdkjaw0EJGl7rxznvrLz9WimsPpaWqluVqUzDWWoZHTK4Bz04bTczuqnRqgMHdDz2j\
            sPjEq8QGwDbu7GAwnBBoq8uUDIQi7my2tE+NwOvBSkKxHejKXoOVNNFRqx7zgOizDVZjFCdm4XZX4duuER5jo0fpIKJST64Q\
            tm40xdK9chTRwsERcYFVFfAbky505n/Q2oIdmhZ244QMAAAAAQAGdXBsb2FkAAABoj1/X2AAAAB/MH0wDgYKKwYBBAEqAhEB\
            AQUABGu3zFqMD5kYr8rpt7KgEIIgicqQTRWgeDs12IYDp7xmTljI/exW8NJ4cUsAOId5oli9Yv8OplIa8nssxR0Rc752aF97\
            u7ceEISixK+OmibVNYXIqvej853Llj88AGrbMMUnGQ0yaxSf2+rL8QAAAAEABVguNTA5AAABTzCCAUswgfGgAwIBAgIIKpag\
            jis3dlwwCgYIKoZIzj0EAwIwGjEYMBYGA1UEAxMPcGtob3VuZC1leGFtcGxlMB4XDTI2MTIwMzIwMDEyN1oXDTM2MTEzMDIw\
            MDEyN1owGjEYMBYGA1UEAxMPcGtob3VuZC1leGFtcGxlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEysmWBFiIa1/H1vVE\
            tH/6h5BnO8tXFPjz9NRIWuHiO1ojQHYJipN6jxr92BKF0MQnvvS9GmoCuQv4/sMl/7WdfqMhMB8wHQYDVR0OBBYEFHHjim8z\
            lyy5H9qJE48dMzvG/IytMAoGCCqGSM49BAMCA0kAMEYCIQCWeyyAsTNhKehnkmaGZ2CdYLxkCOsI3NnPJ49CJHd0UQIhAN0R\
            6N3BJ+OTSzmcstMJxhQeGj9xa/lPUNsDrcMaO6UDZyB7o4KNDaHjY29fFBB9URs35JI=",
        );
        let trust = decode(
            "/u3+7QAAAAIAAAABAAAAAgACY2EAAAGiPX9hPAAFWC41MDkAAAGOMIIBijCCAS+gAwIBAgIULWFu4rFwjBbSZlALmI4B1mLP\
            eJ4wCgYIKoZIzj0EAwIwGjEYMBYGA1UEAwwPcGtob3VuZC1leGFtcGxlMB4XDTI2MTIwMzE5NDE1MloXDTM2MTEzMDE5NDE1\
            MlowGjEYMBYGA1UEAwwPcGtob3VuZC1leGFtcGxlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOjq3nvY+4uU/QkYMSRPr\
            EATT1CEsL/imbK3waVFd2jnPIvxBb2fl6VqCo1swTl5hr6c7mgi3/dXGl8iYXv8oNaNTMFEwHQYDVR0OBBYEFMR/ZDajuKPK\
            +kLMH0SjSFRMtzAzMB8GA1UdIwQYMBaAFMR/ZDajuKPK+kLMH0SjSFRMtzAzMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0E\
            AwIDSQAwRgIhANbXR9C5nNo88aQ226qKJM++N1Y98WdpZK7jViD8QueNAiEAoW1y6ZIEBzrCkByPxdDo0NTY395wpbt4yGHv\
            Dkpy1TgPcB3RQVi/8OGKikuAvkzAOJGFJA==",
        );
        assert!(java_keystore(&key), "the private key after a certificate");
        assert!(!java_keystore(&trust), "certificates only");
        assert!(!java_keystore(&key[..40]), "cut short in the first entry");
        let mut magic = key.clone();
        magic[0] = 0xFF;
        assert!(!java_keystore(&magic));
        assert!(!java_keystore(b""));
    }

    #[test]
    fn random_key_bytes_are_keys() {
        use base64::Engine as _;
        let enc = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let key: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(197).wrapping_add(13)).collect();
        assert!(random_key_bytes(enc(&key).as_bytes()));
        assert!(!random_key_bytes(enc(b"this is a passphrase of 32 bytes").as_bytes()));
        assert!(!random_key_bytes(enc(&[0u8; 32]).as_bytes()));
        assert!(!random_key_bytes(enc(&key[..20]).as_bytes()));
    }
}
