//! Filters on a candidate secret: is it delimited, does it look like a placeholder, how random is it.

/// True when `text` holds a `\"` or `\'`.
pub fn has_escaped_quote(text: &[u8]) -> bool {
    use memchr::memmem::Finder;
    use std::sync::LazyLock;
    static DOUBLE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\\\""));
    static SINGLE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\\'"));
    DOUBLE.find(text).is_some() || SINGLE.find(text).is_some()
}

/// Writes into `out` a copy of `hay` whose escaped quotes are plain, so the rules' contexts, written for
/// code, read code kept inside a string. An opening quote keeps its place, its backslashes spaces before
/// it (`API_KEY = \"…` reads `API_KEY =  "…`); a closing quote moves to where its backslashes began, the
/// spaces after it (`[\"KEY\"] = \"v\")` reads `[ "KEY" ] =  "v" )`), so a name or a value is closed by
/// its quote as in code. Every other byte, and the length, are the same. False, and `out` untouched,
/// when `hay` has no escaped quote.
pub fn unescaped_quotes(hay: &[u8], out: &mut Vec<u8>) -> bool {
    let mut copied = false;
    for i in memchr::memchr_iter(b'\\', hay) {
        let Some(&quote @ (b'"' | b'\'')) = hay.get(i + 1) else {
            continue;
        };
        if !copied {
            out.clear();
            out.extend_from_slice(hay);
            copied = true;
        }
        let run = hay[..=i].iter().rev().take_while(|&&b| b == b'\\').count();
        let from = i + 1 - run;
        // A quote after whitespace, `=`, `:`, `,`, a bracket, another quote (`'\"…\"'`) or an escaped
        // line break or tab (`{\n\"auths\"`) opens a string; after anything else it closes one.
        let opening = from.checked_sub(1).is_none_or(|p| {
            hay[p].is_ascii_whitespace()
                || b"=:,([{<'\"`".contains(&hay[p])
                || (matches!(hay[p], b'n' | b't' | b'r') && p > 0 && hay[p - 1] == b'\\')
        });
        if opening {
            out[from..=i].fill(b' ');
        } else {
            out[from] = quote;
            out[from + 1..=i + 1].fill(b' ');
        }
    }
    copied
}

/// Word bytes: a secret that starts or ends next to one is glued inside a longer token.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// True when the secret stands on its own: no word byte glued to a word byte at either end.
///
/// Escapes are not glue: `%3Dpk_…` (percent-encoding) and `\npk_…` (an escaped newline in a JSON or JS
/// string) put a letter before the secret that is not part of the token.
pub fn is_delimited(hay: &[u8], start: usize, end: usize) -> bool {
    let first = hay[start];
    let last = hay[end - 1];
    if is_word(first) && start > 0 && is_word(hay[start - 1]) && !escape_before(hay, start) {
        return false;
    }
    if is_word(last) && hay.get(end).is_some_and(|&b| is_word(b)) {
        return false;
    }
    true
}

/// True when nothing glues onto the secret's right end (half of [`is_delimited`]).
pub fn is_delimited_right(hay: &[u8], end: usize) -> bool {
    !(end > 0 && is_word(hay[end - 1]) && hay.get(end).is_some_and(|&b| is_word(b)))
}

fn escape_before(hay: &[u8], start: usize) -> bool {
    let at = |i: usize| start.checked_sub(i).and_then(|j| hay.get(j)).copied();
    let percent = at(3) == Some(b'%')
        && at(2).is_some_and(|b| b.is_ascii_hexdigit())
        && at(1).is_some_and(|b| b.is_ascii_hexdigit());
    let backslash = at(2) == Some(b'\\') && matches!(at(1), Some(b'n' | b'r' | b't'));
    percent || backslash
}

/// How many standard-alphabet base64 characters a candidate needs on each side to lie inside an encoded blob
/// ([`inside_base64_blob`]). `near::MARGIN` must cover it: the filter reads this far around a candidate.
pub const BLOB_REACH: usize = 32;

/// True for a candidate with an unbroken run of base64 characters (`A-Z a-z 0-9 + /`) of [`BLOB_REACH`] on
/// both sides: it is a slice of encoded bytes (a font or image in a `data:` URI, a certificate, a
/// serialized object), whatever it looks like (`1//0…` for a Google refresh token, `EAAB…` for a Facebook
/// token in a base64 font). A real token ends at punctuation, space or a quote; what an encoded blob
/// carries is found by decoding it.
pub fn inside_base64_blob(hay: &[u8], start: usize, end: usize) -> bool {
    base64_reach(hay[..start].iter().rev()) && runs_on_as_base64(hay, end)
}

/// Whether `bytes` begin with [`BLOB_REACH`] standard-alphabet base64 characters.
fn base64_reach<'a>(bytes: impl Iterator<Item = &'a u8>) -> bool {
    let b64 = |b: &&u8| b.is_ascii_alphanumeric() || **b == b'+' || **b == b'/';
    bytes.take(BLOB_REACH).take_while(b64).count() >= BLOB_REACH
}

/// True when a generic rule's value at `hay[start..end]` is a dotted name read from an object, module
/// or resource (`settings.DB_PASSWORD`, `process.env.API_KEY`, `R.string.api_key`,
/// `base64.StdEncoding.EncodeToString`) or a file name (`master_development.yml.enc`): a reference or a
/// path, not a literal. A random password that holds dots (`gagBLvn.Uif2bwdZh5`) is neither: its
/// segments are not spelled as names ([`name_segment`]). About one random dotted value in ten still is;
/// when it is quoted (`"Xkqa.Vbnt"`) it is a string literal, not code, and only a file name or a
/// lowercase key (`'auth.password.label'`, an i18n or property key) is still refused.
pub fn dotted_name(hay: &[u8], start: usize, end: usize) -> bool {
    let value = &hay[start..end];
    if file_name(value) {
        return true;
    }
    let value = value.strip_suffix(b".").unwrap_or(value);
    if !value.contains(&b'.') || !value.split(|&b| b == b'.').all(name_segment) {
        return false;
    }
    let quoted = start > 0 && matches!(hay[start - 1], b'"' | b'\'') && hay.get(end) == Some(&hay[start - 1]);
    let lowercase = |v: &[u8]| {
        v.iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.'))
    };
    // A class's full name (`authentication.backends.saml2.SAML2Backend`): two lowercase packages or
    // more, then the class.
    let segments: Vec<&[u8]> = value.split(|&b| b == b'.').collect();
    let class_path = segments.len() >= 3
        && segments[..segments.len() - 1].iter().all(|s| lowercase(s))
        && segments[segments.len() - 1].first().is_some_and(u8::is_ascii_uppercase);
    !quoted || lowercase(value) || class_path
}

/// True for a path given as a value (`/run/secrets/api_token`, `~/Keys/App2Key.pem`, `/api/v1/token`): it
/// opens with `/` (or `~/`, `./`) and every segment is spelled as names ([`name_segment`], split at `.`,
/// `-` and `@`, numbers between them: `acme-2024`, `enterprise-server@3.0`) or is a file name. A base64
/// key may open with `/` too (`/k3Jx+Ab9…`), but its segments are not.
pub fn path_of_names(value: &[u8]) -> bool {
    let rest = value
        .strip_prefix(b"~")
        .or_else(|| value.strip_prefix(b"."))
        .unwrap_or(value);
    rest.first() == Some(&b'/')
        && rest.len() > 1
        && rest.split(|&b| b == b'/').filter(|seg| !seg.is_empty()).all(|seg| {
            // A lowercase directory's name may hold digits anywhere (`r10k`, `id_ed25519`, `python3.12`).
            file_name(seg)
                || (seg.len() <= 24
                    && seg
                        .iter()
                        .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')))
                || seg
                    .split(|&b| matches!(b, b'.' | b'-' | b'@'))
                    .all(|part| part.iter().all(u8::is_ascii_digit) || name_segment(part))
        })
}

/// A generic rule's value as the regex took it, or without the quotes it took too. A value whose first
/// characters the value alphabet leaves out (`;`, `:`, `,`) is taken in one of three ways:
/// - with both its quotes (`"Kq;8vR2x…"`), which must be the same;
/// - with its closing quote only, the opening one before it (a call's argument, `env('DB_PASSWORD',
///   'fP!Z:bE…')`, whose form ends at the opening quote), which must be the same;
/// - unquoted to the end of its line, when the line is a setting (`DB_PASSWORD=qZT,WWEAs…` in a `.env`,
///   `password: a;b…` in YAML): only spaces or `export` before the name `name`, and `=` or `:` between
///   it and the value, and the value ends no statement or call (`;`, `)`). In code, what runs to the end of
///   a line after `;` or `,` is more code.
///
/// `None` when the quotes differ or the line is no setting.
pub fn unquoted(hay: &[u8], start: usize, end: usize, name: Option<(usize, usize)>) -> Option<(usize, usize)> {
    let value = &hay[start.min(end)..end];
    let quote = |b: &u8| matches!(b, b'"' | b'\'');
    match (value.first(), value.last()) {
        (Some(&q), _) if quote(&q) => (value.len() >= 2 && value[value.len() - 1] == q).then_some((start + 1, end - 1)),
        (_, Some(&q)) if quote(&q) => (start > 0 && hay[start - 1] == q).then_some((start, end - 1)),
        _ if value.iter().any(|b| matches!(b, b';' | b':' | b',')) => {
            let (ns, ne) = name?;
            let line = memchr::memrchr(b'\n', &hay[..ns]).map_or(0, |i| i + 1);
            let before = hay[line..ns].trim_ascii();
            let between = hay[ne..start].trim_ascii();
            // `Password::defaults($x);` is a call, not `Password: :defaults…`; a value that ends a statement
            // or a call (`…;`, `…)`) is code.
            let code = (hay[ne..start] == *b":" && value[0] == b':') || matches!(value.last(), Some(b';' | b')'));
            ((before.is_empty() || before == b"export") && matches!(between, b"=" | b":") && !code)
                .then_some((start, end))
        }
        _ => Some((start, end)),
    }
}

/// True for a file name given as a value (a credentials file's path, not its content): a name of word
/// characters, dashes and dots ending in one of [`FILE_EXTENSIONS`].
fn file_name(value: &[u8]) -> bool {
    let Some(dot) = memchr::memrchr(b'.', value) else {
        return false;
    };
    let (stem, ext) = (&value[..dot], &value[dot + 1..]);
    !stem.is_empty()
        && FILE_EXTENSIONS
            .split(' ')
            .any(|e| e.as_bytes().eq_ignore_ascii_case(ext))
        && stem
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Extensions that end a file name given as a value (a credentials file's path, not its content).
const FILE_EXTENSIONS: &str = concat!(
    "yml yaml json toml ini cfg conf properties env enc txt log csv xml md html ",
    "pem key crt cer p12 pfx p8 der jks keystore kdbx gpg asc js ts py rb go sh ps1 zip gz"
);

/// Whether one segment of a dotted value is spelled as a name: an identifier whose capitals are
/// acronyms (`API`, `DB_PASSWORD`) or begin words (two lowercase letters or more, or a two-letter word
/// before the next: `EncodeToString`), with no digit before a lowercase letter (`f2b`) and a vowel in
/// every run of five lowercase letters (`pkqzt` is no word).
fn name_segment(seg: &[u8]) -> bool {
    let identifier = seg.first().is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
        && seg.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_');
    if !identifier
        || seg
            .windows(2)
            .any(|w| w[0].is_ascii_digit() && w[1].is_ascii_lowercase())
    {
        return false;
    }
    if !seg.iter().any(u8::is_ascii_lowercase) {
        // `R`, `DB_PASSWORD`: a constant's or a class's name.
        return true;
    }
    let up = |i: usize| seg.get(i).is_some_and(u8::is_ascii_uppercase);
    let low = |i: usize| seg.get(i).is_some_and(u8::is_ascii_lowercase);
    let alpha = |i: usize| seg.get(i).is_some_and(u8::is_ascii_alphabetic);
    // A version or a product's number is a word of its own (`accessKeyV1`, `bucketS3`, `V2Namespace`).
    let numbered = |i: usize| {
        let digits = seg[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        digits > 0 && (i + 1 + digits == seg.len() || up(i + 1 + digits))
    };
    let words = (0..seg.len())
        .filter(|&i| up(i) && !(i > 0 && up(i - 1)) && !up(i + 1))
        .all(|i| numbered(i) || (low(i + 1) && (!alpha(i + 2) || low(i + 2) || low(i + 3))));
    let vowels = seg
        .split(|b| !b.is_ascii_lowercase())
        .filter(|run| run.len() >= 5)
        .all(|run| run.iter().any(|b| b"aeiouy".contains(b)));
    words && vowels
}

/// True when the secret at `hay[start..end]` repeats the user name just before it (`fernly:fernly@`,
/// `admin:admin`, `-u guest:guest`): a development default or a stand-in, never a chosen password.
pub fn echoes_user(hay: &[u8], start: usize, end: usize) -> bool {
    let secret = &hay[start..end];
    let Some(user_end) = start.checked_sub(1).filter(|&i| hay[i] == b':') else {
        return false;
    };
    user_end >= secret.len()
        && &hay[user_end - secret.len()..user_end] == secret
        && (user_end == secret.len() || !is_word(hay[user_end - secret.len() - 1]))
}

/// True when [`BLOB_REACH`] base64 characters follow the value: a generic rule's value is capped in length,
/// so what it took is the head of something longer, a ciphertext (a SealedSecret's `AgB…`, an
/// encrypted config value) or an encoded blob, not a token.
pub fn runs_on_as_base64(hay: &[u8], end: usize) -> bool {
    base64_reach(hay[end.min(hay.len())..].iter())
}

/// Where a generic rule's quoted value at `hay[start..end]` really ends: at its closing quote when the
/// value stopped short of it at a character outside the generic alphabet that a password may hold
/// (`password="WN3N930G;uE0egLp"`, `'w#Ai14%k:flPgDHNPb'`, `"Kq8v,R2x(L"`), else `end`. The rest must be
/// printable ASCII without a space, a backslash or a quote, and the closing quote near (48 bytes): a
/// quote further on, or past a space, is another string's (`"abc" + ", "`). About half of the 20-character
/// passwords a password manager draws from all the symbols hold one of `;:,`.
pub fn to_closing_quote(hay: &[u8], start: usize, end: usize) -> usize {
    let Some(&quote) = start.checked_sub(1).and_then(|i| hay.get(i)) else {
        return end;
    };
    if !matches!(quote, b'"' | b'\'') || hay.get(end) == Some(&quote) {
        return end;
    }
    let rest = &hay[end.min(hay.len())..hay.len().min(end + 48)];
    match rest.iter().position(|&b| b == quote) {
        Some(close)
            if close > 0
                && end + close - start <= 128
                && rest[..close]
                    .iter()
                    .all(|&b| b.is_ascii_graphic() && !matches!(b, b'\\' | b'"' | b'\'' | b'`')) =>
        {
            end + close
        }
        _ => end,
    }
}

/// True when the value a generic rule took runs on into a non-ASCII character (`0Y8rMnww$*9VFYE§59-!…`):
/// the rules' alphabets are ASCII, so what they took is only a prefix of the real value, and a prefix's
/// fingerprint would not match the secret's anywhere else. A closing typographic quote (`”`, `’`) ends
/// a value as a plain quote does.
pub fn continues_past_ascii(hay: &[u8], end: usize) -> bool {
    let rest = &hay[end.min(hay.len())..];
    rest.first().is_some_and(|&b| b >= 0x80)
        && !rest.starts_with("\u{201d}".as_bytes())
        && !rest.starts_with("\u{2019}".as_bytes())
        // German „…“ closes with a left double quote; French and Russian « … » with a guillemet.
        && !rest.starts_with("\u{201c}".as_bytes())
        && !rest.starts_with("\u{bb}".as_bytes())
}

/// True for an unquoted camelCase identifier that ends a statement or an argument
/// (`this.apiSecret = configmapK8sSecret;`, `login(user, userToken2)`): code passing a variable, not a
/// literal. A quoted value, or one that runs to the end of the line (`.env`, YAML), is still a value.
///
/// So is an unquoted name called (`SHA512Base64PBKDF2PasswordHasher().encode(…)`, `base64.b32encode(…)`),
/// a member read in arithmetic (`token:t.tokens.length-1,` in a minified bundle) and a long snake_case
/// name with a camelCase part.
pub fn code_identifier(hay: &[u8], start: usize, end: usize) -> bool {
    let value = &hay[start..end];
    let quoted = start > 0 && matches!(hay[start - 1], b'"' | b'\'' | b'`');
    if quoted {
        return false;
    }
    let ends_code = matches!(hay.get(end), Some(b';' | b')' | b','));
    let name_chars = |v: &[u8]| {
        v.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && v.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
    };
    let camel = value.first().is_some_and(u8::is_ascii_lowercase)
        && value.iter().any(u8::is_ascii_uppercase)
        && value.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    // A call's callee, after a test in minified code too (`t&&B5t.has(t)`).
    let callee = value
        .iter()
        .rposition(|b| matches!(b, b'&' | b'|' | b'!'))
        .map_or(value, |i| &value[i + 1..]);
    let called = hay.get(end) == Some(&b'(') && name_chars(callee);
    // `length-1`, `count+2`: a small number added to or taken from a member.
    let member = value
        .iter()
        .rposition(|b| matches!(b, b'-' | b'+'))
        .filter(|&i| (1..=3).contains(&(value.len() - i - 1)) && value[i + 1..].iter().all(u8::is_ascii_digit))
        .map_or(value, |i| &value[..i]);
    let arithmetic = member.len() < value.len()
        && member.contains(&b'.')
        && name_chars(member)
        && member.split(|&b| b == b'.').all(name_segment);
    // A long snake_case name, a part of it camelCase (Go's generated `file_acme_auth_v1_auth_proto_rawDesc`).
    let snake = value.iter().filter(|&&b| b == b'_').count() >= 2
        && value.iter().any(u8::is_ascii_uppercase)
        && value.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        && value
            .split(|&b| b == b'_')
            .all(|part| part.len() >= 2 && name_segment(part));
    called || snake || (ends_code && (camel || arithmetic))
}

/// Why a generic rule's value at `start..end` of `hay` is no literal secret where it sits, or `None`:
/// it runs on past ASCII or past the rule's length cap (a base64 run), it is a code identifier passed
/// along, or it is a status badge's token. The engine refuses on it; `rules check` says which.
pub fn generic_context_refusal(hay: &[u8], start: usize, end: usize) -> Option<&'static str> {
    if continues_past_ascii(hay, end) {
        Some("running on past ASCII (a value cut short)")
    } else if code_identifier(hay, start, end) {
        Some("a code identifier (a variable passed, not a literal)")
    } else if runs_on_as_base64(hay, end) {
        Some("the head of a longer base64 run (a ciphertext or blob)")
    } else if hay[end.min(hay.len())..].starts_with(b"||") {
        Some("the IV of an encrypted value (NiFi's protected `iv||ciphertext`)")
    } else if badge_query(hay, start) {
        Some("a status badge's token (in an image URL's query)")
    } else if inside_arn(hay, start) {
        Some("part of an ARN (`arn:aws:secretsmanager:…:secret:name-AbCdEf` names a secret)")
    } else if search_only_key(hay, start, end) {
        Some("an Algolia search-only key (a DocSearch or InstantSearch configuration, public)")
    } else if hay[start..end].starts_with(b"airbyte_workspace_") {
        Some("an Airbyte secret's coordinate (`{\"_secret\": \"airbyte_workspace_…\"}` names a stored secret)")
    } else if object_key(hay, start, end) {
        Some("a key of an object (`\"input_sha256\": …` after a string that ends in a name)")
    } else if stripe_object_id(&hay[start..end]) {
        Some("a Stripe object's id (a card token `tok_…`, `pm_…`, `cus_…`: no key)")
    } else if git_signing_key_id(hay, start, end) {
        Some("a GPG key's id or fingerprint (git's `user.signingkey`)")
    } else if braze_sdk_key(hay, start, end) {
        Some("a Braze SDK API key (an app's or site's, public)")
    } else if hay[start..end].starts_with(b"pk_live_")
        || hay[start..end].starts_with(b"pk_test_")
        || openpay_public_key(&hay[start..end])
        || paddle_client_token(&hay[start..end])
    {
        Some("a publishable key (`pk_live_…`, `pk_test_…`, Openpay's `pk_` and 32 hex digits, Paddle.js's `live_` and 27 hex digits: browser code's)")
    } else if hay[start..].starts_with(b"hmac-sha256:") || hay[start..end].starts_with(b"accessor=") {
        Some("a Vault audit log's HMAC of a value (`hmac-sha256:…`) or a token's accessor (`accessor=…`)")
    } else if dataloader_encrypted(hay, start, end) {
        Some("a Salesforce Data Loader password encrypted with its key file (`process.encryptionKeyFile`)")
    } else if setting_with_path(&hay[start..end]) {
        Some("a setting whose value is a file's path (`jwt_key=/etc/slurm/jwt_hs256.key`)")
    } else if hay[start..end].starts_with(b"klevu-") && hay[start + 6..end].iter().all(u8::is_ascii_digit) {
        Some("a Klevu JS API key (`klevu-` and digits: the storefront's search key, public)")
    } else if typeform_response_token(hay, start) {
        Some("a Typeform webhook's response token (`form_response.token`: one submission's id)")
    } else if mailgun_signature_token(hay, start, end) {
        Some("a Mailgun webhook's signature token (a per-event nonce, signed with the signing key)")
    } else if rollbar_client_token(hay, start) {
        Some("a Rollbar browser snippet's token (`_rollbarConfig`, post_client_item, public)")
    } else if next_line_after_empty_assignment(hay, start) {
        Some("the next line after an empty assignment (`DB_PASSWORD=`)")
    } else if start > 0 && hay[start - 1] == b'\n' && setting_line(&hay[start..end]) {
        Some("the next line's setting (`NAME=…` after a template read as an XML tag)")
    } else {
        None
    }
}

/// True for a Paddle.js client-side token (`live_` or `test_` and 27 hex digits): Paddle issues it for the
/// browser, where checkout runs; its API keys (`pdl_live_apikey_…`) are what must stay secret.
fn paddle_client_token(value: &[u8]) -> bool {
    let body = value.strip_prefix(b"live_").or_else(|| value.strip_prefix(b"test_"));
    body.is_some_and(|b| b.len() == 27 && b.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)))
}

/// True when the value at `start` is the `token` of a Typeform webhook's `form_response`: the id of one
/// submission, which every delivery of it carries; the webhook's secret signs the payload, elsewhere.
fn typeform_response_token(hay: &[u8], start: usize) -> bool {
    let before = &hay[start.saturating_sub(400)..start];
    let key = before.trim_ascii_end();
    let key = key.strip_suffix(b"\"").unwrap_or(key).trim_ascii_end();
    let Some(key) = key.strip_suffix(b":") else {
        return false;
    };
    key.trim_ascii_end().ends_with(b"\"token\"") && memchr::memmem::find(before, b"\"form_response\"").is_some()
}

/// True for a value that is a setting of its own: an upper-case name and `=` (`ANTHROPIC_MODEL=claude-…`),
/// or a dotted properties key and `=` (`signing.keyId=…`, a Gradle or Java properties file's next line).
fn setting_line(value: &[u8]) -> bool {
    let name = value.iter().position(|&b| b == b'=').map_or(value, |i| &value[..i]);
    let env_name = name.contains(&b'_') && environment_variable_name(name);
    let property = name.contains(&b'.')
        && name.first().is_some_and(u8::is_ascii_lowercase)
        && name
            .split(|&b| b == b'.')
            .all(|part| !part.is_empty() && name_segment(part));
    name.len() < value.len() && (env_name || property)
}

/// True for an environment variable's conventional name: upper case, digits and `_`, opening with a
/// letter (`NS1_API_KEY`).
fn environment_variable_name(name: &[u8]) -> bool {
    name.first().is_some_and(u8::is_ascii_uppercase)
        && name
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
}

/// True when the value at `start` is inside an ARN (`arn:aws:secretsmanager:eu-west-1:123456789012:secret:
/// deploy/config-Qm3xZa`, `arn:aws:ssm:…:parameter/api/token`): a name, however secret-like its words.
pub fn inside_arn(hay: &[u8], start: usize) -> bool {
    let before = &hay[start.saturating_sub(160)..start];
    let token = before
        .iter()
        .rposition(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`' | b'(' | b'[' | b','))
        .map_or(before, |i| &before[i + 1..]);
    // The ARN can follow a scheme of the reader's own (`aws-secretsmanager:arn:aws:…`).
    memchr::memmem::find(token, b"arn:aws").is_some()
}

/// The text around `start..end`: up to `reach` bytes each side, within `hay`.
fn around(hay: &[u8], start: usize, end: usize, reach: usize) -> &[u8] {
    &hay[start.saturating_sub(reach)..end.saturating_add(reach).min(hay.len())]
}

/// True when the value at `start..end` is the key of an Algolia search configuration: `algolia` or
/// `docsearch` near it and an `indexName` beside it (Docusaurus' `themeConfig.algolia`,
/// `docsearch({appId, apiKey, indexName})`). Algolia's documentation has that key be the search-only
/// one, which ships to every visitor's browser.
pub fn search_only_key(hay: &[u8], start: usize, end: usize) -> bool {
    let near = around(hay, start, end, 400);
    // The index name first: a search without a copy, and most candidates have none.
    if memchr::memmem::find(near, b"indexName").is_none() {
        return false;
    }
    // The client's name before the key, or after it (a bundle's `https://${c.appId}-dsn.algolia.net`).
    let near = near.to_ascii_lowercase();
    memchr::memmem::find(&near, b"algolia").is_some() || memchr::memmem::find(&near, b"docsearch").is_some()
}

/// True when the quoted value at `start..end` is followed by `:` and a value: it is the next key of a
/// JSON object or dictionary (`{"question": "reset my password", "input_sha256": "…"}`, where a
/// string ending in a credential's name read as a call's first argument).
pub fn object_key(hay: &[u8], start: usize, end: usize) -> bool {
    let Some(&quote) = start.checked_sub(1).and_then(|i| hay.get(i)) else {
        return false;
    };
    if !matches!(quote, b'"' | b'\'') || hay.get(end) != Some(&quote) {
        return false;
    }
    let rest = &hay[end + 1..];
    let rest = &rest[rest
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(rest.len())..];
    rest.first() == Some(&b':')
        && rest
            .get(1)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'"' | b'\'' | b'{' | b'[') || b.is_ascii_digit())
}

/// True for a credential reference by id: a value in UUID form for a name that is only `credential`
/// (`"credential": "1ff8feb2-…"` in a Flowise chatflow or an n8n workflow names a stored credential).
pub fn credential_id(name: &[u8], value: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"credential")
        && value.len() == 36
        && value.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// True for a Stripe object's id: a card token (`tok_…`, made in the browser with the publishable key
/// and used once), a payment method, source, customer or charge id. It names an object; a key is
/// `sk_`/`rk_`.
pub fn stripe_object_id(value: &[u8]) -> bool {
    let Some(i) = memchr::memchr(b'_', value) else {
        return false;
    };
    let body = &value[i + 1..];
    [
        &b"tok"[..],
        b"btok",
        b"pm",
        b"src",
        b"card",
        b"cus",
        b"ch",
        b"py",
        b"ba",
    ]
    .contains(&&value[..i])
        && (14..=32).contains(&body.len())
        && body.iter().all(u8::is_ascii_alphanumeric)
        && body.iter().any(u8::is_ascii_digit)
}

/// Records a CSV file is read for (a credential inventory or a password manager's export is far
/// smaller; a data set past this is no one's list of logins).
const CSV_MAX_RECORDS: usize = 50_000;

/// The cells under the password columns of a CSV or TSV file whose header line is `text[hs..he]`: a
/// column whose name ends in `password`, `passwd` or `passphrase`, or is `pass`, `pwd` or `psk`
/// (Chrome's, Firefox's, Bitwarden's `login_password`, KeePassXC's, LastPass' and 1Password's exports,
/// and hand-kept inventories), not one that names a hash, a salt, a date or a hint. The delimiter is
/// the header's commonest of `,`, tab and `;`; quoted fields may hold delimiters and newlines. Each span
/// is a cell's content without its quotes or padding; empty cells are left out.
pub fn csv_password_cells(text: &[u8], hs: usize, he: usize) -> Vec<(usize, usize)> {
    let header = &text[hs..he];
    let Some(delim) = [b',', b'\t', b';']
        .into_iter()
        .map(|d| (memchr::memchr_iter(d, header).count(), d))
        .filter(|&(n, _)| n > 0)
        .max_by_key(|&(n, _)| n)
        .map(|(_, d)| d)
    else {
        return Vec::new();
    };
    let mut columns = Vec::new();
    let mut fields = Vec::new();
    csv_record(header, 0, delim, &mut fields);
    for (i, &(a, b)) in fields.iter().enumerate() {
        if password_column(&header[a..b]) {
            columns.push(i);
        }
    }
    let mut cells = Vec::new();
    if columns.is_empty() {
        return cells;
    }
    let mut at = he;
    for _ in 0..CSV_MAX_RECORDS {
        if at >= text.len() {
            break;
        }
        fields.clear();
        at = csv_record(text, at, delim, &mut fields);
        cells.extend(
            columns
                .iter()
                .filter_map(|&c| fields.get(c).copied())
                .filter(|&(a, b)| a < b),
        );
    }
    cells
}

/// Reads the CSV record at `from` (skipping a line break before it) into `fields` (each field's
/// content, unquoted and trimmed); returns where the next record starts.
fn csv_record(text: &[u8], from: usize, delim: u8, fields: &mut Vec<(usize, usize)>) -> usize {
    let mut i = from;
    while i < text.len() && matches!(text[i], b'\r' | b'\n') {
        i += 1;
    }
    loop {
        while i < text.len() && matches!(text[i], b' ' | b'\t') && text[i] != delim {
            i += 1;
        }
        let (start, mut end);
        if text.get(i) == Some(&b'"') {
            start = i + 1;
            i = start;
            // To the closing quote; `""` is a quote inside.
            loop {
                match memchr::memchr(b'"', &text[i..]) {
                    Some(q) if text.get(i + q + 1) == Some(&b'"') => i += q + 2,
                    Some(q) => {
                        end = i + q;
                        i += q + 1;
                        break;
                    }
                    None => {
                        end = text.len();
                        i = text.len();
                        break;
                    }
                }
            }
            while i < text.len() && !matches!(text[i], b'\r' | b'\n') && text[i] != delim {
                i += 1;
            }
        } else {
            start = i;
            while i < text.len() && !matches!(text[i], b'\r' | b'\n') && text[i] != delim {
                i += 1;
            }
            end = i;
            while end > start && matches!(text[end - 1], b' ' | b'\t') {
                end -= 1;
            }
        }
        fields.push((start, end));
        if i < text.len() && text[i] == delim {
            i += 1;
            continue;
        }
        return i;
    }
}

/// True for a CSV column's name that holds passwords or keys: `Password`, `login_password`, `Admin
/// password`, `pwd`, `auth_token`, `api_secret`, `client_secret`; not `password_hash`, `passwordLastSet`,
/// `password hint`, nor a bare `token` or `key` (a text's tokens, a table's keys).
fn password_column(name: &[u8]) -> bool {
    let name: Vec<u8> = name
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect();
    let secret_name = [
        &b"password"[..],
        b"passwd",
        b"passphrase",
        b"authtoken",
        b"accesstoken",
        b"apitoken",
        b"apisecret",
        b"apikey",
        b"secretkey",
        b"clientsecret",
    ];
    secret_name.iter().any(|end| name.ends_with(end))
        || [&b"pass"[..], b"pwd", b"psk", b"secret"].contains(&name.as_slice())
}

/// True when the value at `start..end` is git's `signingkey = …` (a `.gitconfig`'s `[user]` section,
/// unquoted) and a GPG key's id or fingerprint: 8, 16 or 40 hex digits, with gpg's optional `!`. It
/// names the public key that signs commits.
pub fn git_signing_key_id(hay: &[u8], start: usize, end: usize) -> bool {
    let value = &hay[start..end];
    let value = value.strip_suffix(b"!").unwrap_or(value);
    if ![8, 16, 40].contains(&value.len()) || !value.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    let line = &hay[hay[..start].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)..start];
    let line: Vec<u8> = line
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .map(u8::to_ascii_lowercase)
        .collect();
    line == b"signingkey="
}

/// True when the value at `start` is the `accessToken` of Rollbar's browser snippet (`var _rollbarConfig =
/// { accessToken: "…", captureUncaught: true, … }`): a `post_client_item` token, which Rollbar's
/// documentation has every page carry.
pub fn rollbar_client_token(hay: &[u8], start: usize) -> bool {
    let before = &hay[start.saturating_sub(200)..start];
    memchr::memmem::find(before, b"_rollbarConfig").is_some()
}

/// True when the value at `start..end` is a UUID given to Braze's SDK: `Braze.Configuration(apiKey:
/// …, endpoint: "sdk.iad-05.braze.com")`, `braze.initialize('…')`, Appboy's. That key identifies an app
/// or site and ships in every build; Braze's REST keys are UUIDs too, but go to a `rest.` endpoint.
pub fn braze_sdk_key(hay: &[u8], start: usize, end: usize) -> bool {
    if end - start != 36 || hay[start..end].iter().filter(|&&b| b == b'-').count() != 4 {
        return false;
    }
    let near = around(hay, start, end, 300).to_ascii_lowercase();
    let has = |needle: &[u8]| memchr::memmem::find(&near, needle).is_some();
    has(b"braze.configuration")
        || has(b"braze.initialize")
        || has(b"appboy")
        || (has(b"braze") && has(b"sdk.") && !has(b"rest."))
}

/// True for a hex value beside Salesforce Data Loader's `encryptionKeyFile` setting: Data Loader keeps
/// `sfdc.password` encrypted (`encrypt.sh -e`) with that key, as hex.
fn dataloader_encrypted(hay: &[u8], start: usize, end: usize) -> bool {
    end - start >= 32
        && hay[start..end].iter().all(u8::is_ascii_hexdigit)
        && memchr::memmem::find(around(hay, start, end, 600), b"encryptionKeyFile").is_some()
}

/// True for `name=/path` (a setting of a list of settings whose value is an absolute path: Slurm's
/// `AuthAltParameters=jwt_key=/etc/slurm/jwt_hs256.key`).
fn setting_with_path(value: &[u8]) -> bool {
    value.iter().position(|&b| b == b'=').is_some_and(|i| {
        i >= 3
            && value[..i].iter().all(|b| b.is_ascii_lowercase() || *b == b'_')
            && value.get(i + 1) == Some(&b'/')
            && value[i + 1..].iter().filter(|&&b| b == b'/').count() >= 2
    })
}

/// True for Openpay's public key, `pk_` and 32 hex digits (a Klaviyo private key is `pk_` and 34, and
/// its own rule's).
fn openpay_public_key(value: &[u8]) -> bool {
    value.len() == 35 && value.starts_with(b"pk_") && value[3..].iter().all(u8::is_ascii_hexdigit)
}

/// True when the value at `start..end` is the `token` of a Mailgun webhook's `"signature": {"token":
/// …, "timestamp": …, "signature": …}`: 50 hex digits Mailgun draws per event, which the signature signs.
pub fn mailgun_signature_token(hay: &[u8], start: usize, end: usize) -> bool {
    end - start == 50
        && hay[start..end].iter().all(u8::is_ascii_hexdigit)
        && memchr::memmem::find(&hay[start.saturating_sub(80)..start], b"\"signature\"").is_some()
}

/// True when the value at `start` begins a line, unindented, and the last non-blank byte before it is
/// an assignment's `=` or `:`: that assignment is empty (`DB_PASSWORD=` in a `.env`), and the value is
/// the next line (`REDIS_HOST=127.0.0.1`). A value continued on the next line is indented (YAML's
/// `password:` then `  value`, a block scalar).
pub fn next_line_after_empty_assignment(hay: &[u8], start: usize) -> bool {
    if start == 0 || hay[start - 1] != b'\n' {
        return false;
    }
    hay[..start]
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .is_some_and(|i| matches!(hay[i], b'=' | b':'))
}

/// True when the value at `start` is in the query of an image URL (`….svg?token=…`,
/// `badge.png?branch=main&token=…`): a status badge's token (Travis CI's status-image token, Codecov's
/// graph token), which reads only the badge and is written into a README to show it.
pub fn badge_query(hay: &[u8], start: usize) -> bool {
    let before = &hay[start.saturating_sub(256)..start];
    // The URL runs back to a space, quote or bracket (`![build](https://…)`, `<img src="…">`).
    let url = before
        .iter()
        .rposition(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'(' | b'<' | b'['))
        .map_or(before, |i| &before[i + 1..]);
    let Some(query) = memchr::memchr(b'?', url) else {
        return false;
    };
    let path = url[..query].to_ascii_lowercase();
    [&b".svg"[..], b".png", b".gif"].iter().any(|ext| path.ends_with(ext))
}

/// True for a name whose value is a reference to a secret, a public value or a setting, not a secret:
/// `credentialsId`, `LLM_SECRET_NAME`, `publicToken`, `ALGOLIA_SEARCH_ONLY_API_KEY`, `AWS_REGION`, `csrf-token`, Rails' `authenticity_token` (a CSRF token), a
/// password's hash or salt (`passwordHash`, `hashed_password`, `passwordSalt`); or whose
/// name says the value is made up for a test: `fakeToken`, `mockSecret`, `invalidApiKey`, `nonMatchingToken`;
/// or a page position (`NextToken`, `nextPageToken`).
/// Only rules whose regex captures the assigned name (group `name`, the generic assignment rules) ask: a
/// provider rule's own format still reports a real-shaped key whatever its variable is called.
pub fn is_reference_name(name: &[u8]) -> bool {
    let lower: Vec<u8> = name
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| b.to_ascii_lowercase())
        .collect();
    let has = |word: &[u8]| lower.windows(word.len()).any(|w| w == word);
    const SUFFIXES: &[&[u8]] = &[
        b"id",
        b"ids",
        b"name",
        b"names",
        b"url",
        b"path",
        b"file",
        b"type",
        b"length",
        // How a password is hashed (`PasswordHashAlgorithm = "PBKDF2-HMAC-SHA512"`, its iterations).
        b"algorithm",
        b"iterations",
        b"salt",
        b"hash",
        b"digest",
        // An AEAD ciphertext's authentication tag (a Chef encrypted data bag's `auth_tag`).
        b"authtag",
        // A key's fingerprint (`signing_key_fingerprint`): a digest of a public key.
        b"fingerprint",
        // How a value is protected (NiFi's `nifi.security.keystorePasswd.protected=aes/gcm/256`).
        b"protected",
    ];
    const MADE_UP: &[&[u8]] = &[
        b"fake",
        b"mock",
        b"dummy",
        b"invalid",
        b"nonmatching",
        b"example",
        b"sample",
    ];
    // A page or sync position an API hands back (`NextToken`, `nextPageToken`, `ContinuationToken`,
    // `syncToken`), and .NET's `CancellationToken`: tokens, but no credential.
    // Compared by words (`statuspage_token` is a Statuspage token).
    const POSITION: &[&str] = &[
        "next",
        "page",
        "continuation",
        "sync",
        "cursor",
        "resume",
        "cancellation",
        // Handles an API hands back for one call (AWS's `ClientRequestToken`, `IdempotencyToken`,
        // WAF's `LockToken`, `ChangeToken`) and Postman's cache-busting `Postman-Token` header.
        "idempotency",
        "request",
        "lock",
        "change",
        "postman",
        // Zoom's URL validation: the `plainToken` it sends and the `encryptedToken` (its HMAC) answered.
        "plain",
        "encrypted",
        // A shop's order fields (Shopify's `checkout_token`, `cart_token`): which cart, not a credential.
        "cart",
        "checkout",
        // Which version of a record an API hands back for optimistic locking (Square's `version_token`).
        "version",
    ];
    // A setting beside the credentials (a Kubernetes Secret's `AWS_REGION`, `SMTP_USER`), not one.
    const SETTINGS: &[&str] = &[
        "region",
        "zone",
        "host",
        "port",
        "endpoint",
        "bucket",
        "user",
        "email",
        "namespace",
        // When it was set or runs out (ArgoCD's `admin.passwordMtime`, a token's `expiry`): a time.
        "mtime",
        "time",
        "timestamp",
        "date",
        "expiry",
        "expires",
        "expiration",
        "ttl",
        "timeout",
    ];
    let words = words_of(name);
    // What handles or shows a credential (`GooglePasswordManager`, `resetPwdInput`, `passwordField`,
    // `tokenLabel`): a program's part, whose value is an identifier or a text, not the credential.
    const PARTS: &[&str] = &[
        "manager",
        "field",
        "input",
        "label",
        "hint",
        "prompt",
        "policy",
        "strength",
        "validator",
        "dialog",
        "button",
        "component",
        "screen",
    ];
    let part = words.len() >= 2 && words.last().is_some_and(|w| PARTS.contains(&w.as_str()));
    let position = match words.as_slice() {
        [.., before, last] => last == "token" && POSITION.contains(&before.as_str()),
        _ => false,
    };
    let setting = words.last().is_some_and(|w| SETTINGS.contains(&w.as_str()))
        // Kafka's and Confluent's `basic.auth.user.info=KEY:SECRET`: the value up to `:` is the key's id;
        // the secret after it is the provider rule's.
        || matches!(words.as_slice(), [.., user, info] if user == "user" && info == "info");
    // A client token that its provider embeds in apps by design: Facebook's (Settings > Advanced),
    // Datadog's browser-SDK token and Paddle.js's client-side token (Cashier's `client_side_token`).
    let client_token = match words.as_slice() {
        [first, .., client, last] => {
            client == "client"
                && last == "token"
                && ["facebook", "fb", "datadog", "dd", "paddle"].contains(&first.as_str())
        }
        _ => false,
    } || matches!(words.as_slice(), [.., c, s, t] if c == "client" && s == "side" && t == "token");
    // Socrata's app token only raises a client's rate limit and ships in dashboards (`SODA_APP_TOKEN`).
    let socrata_token = words.iter().any(|w| w == "soda" || w == "socrata")
        && words.iter().any(|w| w == "app")
        && words.last().is_some_and(|w| w == "token");
    // Mixpanel's project token identifies the project to its browser and mobile SDKs; its secrets are
    // the API secret and service-account secrets.
    let mixpanel_token = words.iter().any(|w| w == "mixpanel") && words.last().is_some_and(|w| w == "token");
    // A Shopify app's API key is its client id, public (App Bridge sends it from the browser); the secret
    // is the API secret (`shpss_`) or an access token, which their own rules find.
    let shopify_key = matches!(words.as_slice(), [.., a, b, c] if a == "shopify" && b == "api" && c == "key");
    // Shopify's public Storefront API access token is made for browsers (a headless storefront's bundle
    // sends it); the private one (Hydrogen's `PRIVATE_STOREFRONT_API_TOKEN`) is not public.
    let storefront_token = words.iter().any(|w| w == "storefront")
        && words.last().is_some_and(|w| w == "token")
        && !words.iter().any(|w| w == "private");
    SUFFIXES.iter().any(|s| lower.ends_with(s))
        || position
        // A CSRF token is per session (a form's hidden field, a cookie); a CSRF *secret* key signs them
        // (Flask-WTF's `WTF_CSRF_SECRET_KEY`).
        || ((has(b"csrf") || has(b"xsrf")) && !has(b"secret"))
        || has(b"authenticity")
        || lower.starts_with(b"hashed")
        || has(b"public")
        || has(b"searchonly")
        // A presigned AWS URL's `X-Amz-Credential`: the access key id and its scope, no secret.
        || has(b"amzcredential")
        // Braze's SDK key in an app's resources (`com_braze_api_key`, formerly Appboy's): public.
        || lower.starts_with(b"combraze")
        || lower.starts_with(b"comappboy")
        || setting
        || part
        || client_token
        || mixpanel_token
        || socrata_token
        || shopify_key
        || storefront_token
        // A generator's option (`op item create --generate-password='letters,digits,24'`): a recipe.
        || words.first().is_some_and(|w| w == "generate")
        || MADE_UP.iter().any(|w| has(w))
}

/// The words of a name, lowercase: split at `_`, `-`, `.` and where camelCase starts a word
/// (`nextPageToken`, `NEXT_PAGE_TOKEN` and `next-page-token` are `next`, `page`, `token`).
fn words_of(name: &[u8]) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for &b in name {
        if !b.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if b.is_ascii_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
        current.push(b.to_ascii_lowercase() as char);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Credentials that providers and standards publish in their documentation, SDK samples and developer
/// tools: everyone has them, so finding one is not a leak, under any rule (a provider's or a generic one).
const PUBLISHED_SAMPLES: &[&str] = &[
    // The Rails guides' Active Record encryption keys (`bin/rails db:encryption:init`'s sample output, in
    // active_record_encryption.md and command_line.md).
    "YehXdfzxVKpoLvKseJMJIEGs2JxerkB8",
    "uhtk2DYS80OweAPnMLtrV2FhYIXaceAy",
    "g7Q66StqUQDQk9SJ81sWbYZXgiRogBwS",
    "a3226b97b3b2f8372d1fc6d497a0c0d3",
    "99eYu7ZO0JEwXUcpxmja5PnoRJMaazVZ",
    "lGRKzINTrMTDSuuOIr6r5kdq2sH6S6Ii",
    "aoOUutSgvw788fvO3z0hSgv0Bwrm76P0",
    // The same guide's earlier sample (Rails 7.0).
    "EGY8WhulUOXixybod7ZWwMIL68R9o5kC",
    "aPA5XyALhf75NNnMzaspW7akTfZp0lPY",
    "xEY0dt6TZcAMg52K7O84wYzkjvbA62Hz",
    // The Kubernetes documentation's Secret example (`password: MWYyZDFlMmU2N2Rm`, base64 of `1f2d1e2e67df`).
    "MWYyZDFlMmU2N2Rm",
    "1f2d1e2e67df",
    // The head every PyPI API token shares (a macaroon's `pypi.org` location), quoted alone in
    // documentation of the format.
    "pypi-AgEIcHlwaS5vcmc",
    // Neon's documentation connection string (`postgresql://alex:AbC123dEf@ep-cool-darkness-123456…`).
    "AbC123dEf",
    // The WireGuard private key of the wg(8) and wg-quick(8) manual pages' examples.
    "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=",
    // PhonePe's UAT sandbox salt key (merchant `PGTESTPAYUAT`, in its integration documentation).
    "099eb0cd-02cf-4e2a-8aca-3e6c6aff0399",
    // Safaricom Daraja's sandbox Lipa na M-Pesa passkey (shortcode 174379, in its API documentation).
    "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
    // Ktor's sessions documentation (`hex("…")` encrypt and sign keys).
    "00112233445566778899aabbccddeeff",
    "6819b57a326945c1968f45236589",
    // Postmark's test server token (its documentation's examples; sends nothing).
    "POSTMARK_API_TEST",
    // FastAPI's security tutorial (`SECRET_KEY` for its OAuth2/JWT example).
    "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
    // Stripe's API reference and quick starts.
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
    "pk_test_TYooMQauvdEDq54NiTphI7jx",
    // Mailgun's, GitHub's and Slack's documentation.
    "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    // Akamai's EdgeGrid documentation (`.edgerc` sample: client secret, access and client tokens).
    "abcdEcSnaAt123FNkBxy456z25qx9Yp5CPUxlEfQeTDkfh4QA=I",
    "akab-zyx987xa6osbli4k-e7jf5ikib5jknes3",
    "akab-nomoflavjuc4422-fa2xznerxrm3teg7",
    // Slack's request-signing guide (its signing secret) and Events API guide (a verification token).
    "8f742231b10e8888abcd99yyyzzz85a5",
    "xyzz0WbapA4vBCDEFasx0q6G",
    // kubeadm's documentation of `--token` (its reference and every tutorial that copies it).
    "abcdef.0123456789abcdef",
    // AWS's documentation key pair.
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    // The Azure Storage emulator's (Azurite's) account key and the Cosmos DB emulator's key, in every
    // project that tests against them.
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==",
    // Flask's documentation (quick start, tutorial, configuration): the sample `SECRET_KEY`s that tutorials
    // and starter apps copy.
    "192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf",
    "5f352379324c22463451387a0aec5d2f",
    // The Bitwarden Secrets Manager SDK's test access token (its fake server's), in every project that
    // tests against the SDK.
    "0.ec2c1d46-6a4b-4751-a310-af9601317f2d.C2IgxjjLF7qSshsbwe8JGcbM075YXw:X8vbvA0bduihIDe/qrzIQQ==",
    // Django REST framework's documentation of TokenAuthentication (`Authorization: Token …`).
    "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
    // NuGet's documentation of `ClearTextPassword` in NuGet.Config.
    "33f!!lloppa",
    // Grafana's built-in `secret_key` in its shipped `defaults.ini` (every installation's until changed).
    "SW2YcwTIb9zpOOhoPsMm",
    // Ably's documentation of its key format.
    "I2E_JQ.OqUdfg:EVKVTCBlzLBPYJiCZTsIW_pqylJ9WVRB5K9P19Ap1y0",
    // The TOTP secret of Google Authenticator's key-URI documentation (base32 of `Hello!` and 0xDEADBEEF),
    // in every TOTP library's README and tests.
    "JBSWY3DPEHPK3PXP",
    // ethers.js' shared default keys for Alchemy, Infura, Ankr and QuickNode, and Etherscan's in ethers v5:
    // every copy of the library ships them (and warns that they are rate-limited and public).
    "_gg7wSSi0KMBsdKnGVfHDueq6xMB9EkC",
    "84842078b09946638c03157f83405213",
    "9f7d929b018cdffb338517efa06f58359e86ff1ffd350bc889738523659e7972",
    "919b412a057b5e9c9b6dce193c5a60242d6efadb",
    "9D13ZE7XSBTJ94N9BNJ2MA33VMAY2YPIRB",
    // Hardhat's and Anvil's default accounts 0-9 and Ganache's deterministic account 0: development chains'
    // keys, in every web3 project's `.env.example`.
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
    "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d",
    // RFC 8032's Ed25519 test vectors (TEST 1, 2, 3, 1024 and SHA(abc)): in every Ed25519 library's tests.
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
    "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
    // Postman Echo's documented sample credentials (Hawk key, OAuth 1.0 consumer secret), in the sample
    // collections every Postman workspace starts with.
    "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn",
    "D+EdQ-gs$-%@2Nu7",
    // Zendesk's API documentation (`jdoe@example.com/token:…`) and its PHP client's samples, copied into
    // many projects.
    "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv",
    // Mollie's documented test API key (its API reference's every example).
    "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",
    // Harbor's documented default admin password (`harbor.yml`'s `harbor_admin_password`), in every
    // Harbor test and install guide.
    "Harbor12345",
    // Binance's API documentation's signing example (`apiKey`, `secretKey`).
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
    // Google's reCAPTCHA v2 test keys (its FAQ: every verification passes; for automated tests).
    "6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI",
    "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe",
    // RFC 7515's JWS example (appendix A.1), in every JOSE library's tests.
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
];

/// The heads of published keys long enough that sharing one means holding the key, mistyped or cut
/// short: the Azure Storage emulator's (Azurite's `devstoreaccount1`) and the Cosmos DB emulator's
/// well-known account keys.
const PUBLISHED_HEADS: &[&str] = &[
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ",
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2",
];

/// True for a credential its provider published as a sample ([`PUBLISHED_SAMPLES`], or one opening as
/// [`PUBLISHED_HEADS`] do); a hex key is compared without its `0x` and in either case.
pub fn is_published_sample(secret: &[u8]) -> bool {
    // `curl -u sk_test_…:` (Stripe's quick start): the sample as a user name, with no password.
    let secret = secret.strip_suffix(b":").unwrap_or(secret);
    let bare = secret.strip_prefix(b"0x").unwrap_or(secret);
    PUBLISHED_SAMPLES
        .iter()
        .any(|s| s.as_bytes() == secret || s.as_bytes().eq_ignore_ascii_case(bare))
        || PUBLISHED_HEADS.iter().any(|h| secret.starts_with(h.as_bytes()))
}

/// Secrets longer than this are key blocks, not tokens.
const LONG_SECRET: usize = 128;

/// Marks of documentation and templates, compared case-insensitively. The first `LONG_MARKS` also apply to
/// key blocks; the rest occur in real ones.
const PLACEHOLDER_MARKS: &[&[u8]] = &[
    // Five: four `x`s in one case still come once in about 140,000 random base62 tokens.
    b"xxxxx",
    b"example",
    b"placeholder",
    b"redacted",
    b"your_",
    b"your-",
    b"dummy",
    b"changeme",
    b"...",
    b"${",
    b"{{",
    // printf-style templates (`?api_key=%s`); percent-encoding never yields `%s` (s is not a hex digit).
    b"%s",
    b"****",
    // GitLab CI's masked variable in a job log.
    b"[masked]",
    // Keyboard walks: test passwords (`asdfqwer1234asdf`, `Qwerty123`). Six letters in a given order come
    // once in about 10^10 random base62 tokens.
    b"qwerty",
    b"asdfgh",
    b"zxcvbn",
    b"asdfqwer",
    b"qwerasdf",
    b"asdfasdf",
    // Instructions in place of a value (`REPLACE_WITH_PASSWORD`, `change_me`).
    b"replace_with",
    b"replace-with",
    b"replaceme",
    b"replace_me",
    b"change_me",
    b"change-me",
];
const LONG_MARKS: usize = 12;

/// True when `lower` (the lower-cased `secret`) holds `mark` written in one case, as people write them
/// (`xxxxx`, `XXXXX`, `Dummy`, `EXAMPLE`). Mixed case (`XxXxX`, `duMmy`) is chance in a random base62 key,
/// where a case-blind `xxxx` came once in every 25,000 GitHub tokens and a case-blind `dummy` in Slack's.
fn has_mark(secret: &[u8], lower: &[u8], mark: &[u8]) -> bool {
    memchr::memmem::find_iter(lower, mark).any(|at| {
        if mark == b"%s" {
            return printf_slot(secret, at);
        }
        let word = &secret[at..at + mark.len()];
        let letters = || word.iter().filter(|b| b.is_ascii_alphabetic());
        letters().all(u8::is_ascii_lowercase)
            || letters().all(u8::is_ascii_uppercase)
            || (word[0].is_ascii_uppercase() && letters().skip(1).all(u8::is_ascii_lowercase))
            // Camel case of two words: Symfony's `!ChangeMe!` in every recipe's `.env`.
            || word == b"ChangeMe"
            || word == b"changeMe"
    })
}

/// True for a printf slot `%s` at `at`: lower-case, at an end of the value or beside punctuation
/// (`key=%s`, `%s:%s`, `Bearer %s`). A random password of letters, digits and punctuation holds a `%s`
/// or `%S` somewhere about once in 150 (20 characters); between two letters or digits it is chance.
fn printf_slot(secret: &[u8], at: usize) -> bool {
    let plain = |i: Option<usize>| i.and_then(|i| secret.get(i)).is_some_and(u8::is_ascii_alphanumeric);
    secret[at + 1] == b's' && !(plain(at.checked_sub(1)) && plain(Some(at + 2)))
}

/// True for a value with a template's angle brackets: one that opens with `<` or closes with `>`, or holds
/// a bracketed name (`<your_api_key>`, `key-<id>`). A lone `<` or `>` among other punctuation is a
/// random character: WordPress's salts draw from `<>` among 90 characters, and 3 in 4 of them hold one
/// (one in 45 opens or closes with one; a template's name holds three other punctuation marks never).
fn angle_template(lower: &[u8]) -> bool {
    // The brackets percent-encoded, as in a URL's password (`postgres://etl:%3Cpassword%3E@db`).
    if lower.starts_with(b"%3c") && lower.ends_with(b"%3e") {
        return true;
    }
    if lower.first() == Some(&b'<') || lower.last() == Some(&b'>') {
        let mut marks = [false; 128];
        for &b in lower {
            if b.is_ascii_punctuation() && !b"<>_-. ".contains(&b) {
                marks[usize::from(b)] = true;
            }
        }
        if marks.iter().filter(|&&m| m).count() < 3 {
            return true;
        }
    }
    let mut rest = lower;
    while let Some(open) = memchr::memchr(b'<', rest) {
        let inner = &rest[open + 1..];
        if let Some(close) = memchr::memchr(b'>', inner) {
            let name = &inner[..close];
            if name.len() >= 2 && name.iter().all(|&b| b.is_ascii_alphanumeric() || b"_ .-".contains(&b)) {
                return true;
            }
        }
        rest = inner;
    }
    false
}

/// True for a token a deployment or build tool replaces with the real value: `__DB_PASSWORD__` (Azure
/// DevOps' Replace Tokens, Helm and Ansible conventions), `#{DbPassword}` and `#{DbPassword}#` (Octopus
/// Deploy, Replace Tokens), `@db.password@` (Maven and Spring Boot resource filtering), `$(DbPassword)`
/// (MSBuild and Azure Pipelines macros), `%DB_PASSWORD%` (Windows environment). The whole value is the
/// token, a name between its delimiters: a random password holding a `#{` or a pair of `@`s is judged
/// as a password.
fn filled_in_later(secret: &[u8]) -> bool {
    const DELIMITERS: &[(&[u8], &[u8])] = &[
        (b"__", b"__"),
        // Auth0 Deploy CLI's keyword replacement (`"##AUTH0_CLIENT_SECRET##"`).
        (b"##", b"##"),
        (b"#{", b"}#"),
        (b"#{", b"}"),
        (b"@", b"@"),
        (b"$(", b")"),
        // 3CX's provisioning templates (`%%extension_auth_pw%%`).
        (b"%%", b"%%"),
        (b"%", b"%"),
    ];
    // octoDNS reads a provider's credential from the environment variable that `env/` names
    // (`api_key: env/NS1_API_KEY`).
    let octodns_env = secret.strip_prefix(b"env/").is_some_and(environment_variable_name);
    octodns_env
        || DELIMITERS.iter().any(|(open, close)| {
            secret.len() > open.len() + close.len() && secret.starts_with(open) && secret.ends_with(close) && {
                let name = &secret[open.len()..secret.len() - close.len()];
                name.first().is_some_and(u8::is_ascii_alphabetic)
                    && name.iter().all(|&b| b.is_ascii_alphanumeric() || b"_.-:".contains(&b))
            }
        })
}

/// True for a value that tells the reader what to put there in camel case (`yourWeak(!)Password`,
/// `YourApiKeyHere`, `YOURSecret`): `your` and a capital. (`your_` and `your-` are placeholder marks.)
/// A random base62 key opens so about 3 times in 100 million.
fn addressed_to_reader(secret: &[u8]) -> bool {
    secret.len() > 4
        && secret[..4].eq_ignore_ascii_case(b"your")
        && secret[..4]
            .iter()
            .skip(1)
            .all(|b| b.is_ascii_lowercase() == secret[1].is_ascii_lowercase())
        && secret[4].is_ascii_uppercase()
}

/// True for a value spelled as words in one case, joined by `_` or `-`, one of which says what it stands
/// for (`oplog_reader_password`, `DB_PASSWORD`, `my-secret-token`): a placeholder that names the
/// value, as in a connection string's `user:user_password@host` in documentation. A random key holds no
/// such run of letters between separators; a passphrase of words holds none of these words.
fn names_itself(secret: &[u8]) -> bool {
    let words = || secret.split(|&b| matches!(b, b'_' | b'-'));
    secret.len() <= 64
        && (secret.iter().all(|b| !b.is_ascii_uppercase()) || secret.iter().all(|b| !b.is_ascii_lowercase()))
        && words().count() >= 2
        // A number may tell copies apart (`user_001_password`).
        && words().all(|w| !w.is_empty() && (w.iter().all(u8::is_ascii_alphabetic) || w.iter().all(u8::is_ascii_digit)))
        && words().any(|w| {
            ["password", "passwd", "pass", "pwd", "secret", "token", "apikey", "key"]
                .iter()
                .any(|n| w.eq_ignore_ascii_case(n.as_bytes()))
        })
}

/// True for a value holding the word `fake` or `fixture` between separators, in one case
/// (`sk-ant-api03-FAKE-KEY-FOR-TESTS`, `ghp_fake_token`, `s3cRe7-test-fixture-only`): a test's stand-in
/// that says so. A random token never holds a separated word.
fn fake_word(secret: &[u8]) -> bool {
    secret
        .split(|b| matches!(b, b'-' | b'_' | b'.' | b':'))
        .any(|w| [&b"fake"[..], b"FAKE", b"Fake", b"fixture", b"FIXTURE", b"Fixture"].contains(&w))
}

/// True for a token's prefix alone (`dckr_pat_`, `sk_live_`, `glpat-`): lowercase words joined by `_` or
/// `-` and ending in one, at most 16 characters, what a redaction test or a template leaves of a token
/// (`"dckr_pat_" + "a" * 27`, `docker login -p dckr_pat_`). No token or password ends so.
fn bare_prefix(secret: &[u8]) -> bool {
    secret.len() <= 16
        && secret.last().is_some_and(|&b| b == b'_' || b == b'-')
        && secret
            .split(|&b| b == b'_' || b == b'-')
            .all(|w| w.iter().all(u8::is_ascii_lowercase))
        && secret.first().is_some_and(u8::is_ascii_lowercase)
}

/// True for a value that is base64 of a placeholder (`c2tfbGl2ZV9SRVBMQUNFX01F` is `sk_live_REPLACE_ME`,
/// `cGtfPHByaXZhdGVfa2V5Pg==` is `pk_<private_key>`): a template's value encoded as its file encodes
/// real ones (a base64 `.env`, an ExternalSecret's sample). Random base64 seldom decodes to printable
/// text at all.
pub fn encodes_placeholder(secret: &[u8]) -> bool {
    use base64::Engine as _;
    if secret.len() < 8 || !secret.len().is_multiple_of(4) {
        return false;
    }
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(secret) else {
        return false;
    };
    let raw = raw.strip_suffix(b"\n").unwrap_or(&raw);
    !raw.is_empty() && raw.iter().all(|b| b.is_ascii_graphic() || *b == b' ') && is_placeholder(raw)
}

/// True for a Windows DPAPI blob (`AQAAANCMnd8BFdERjHoAwE/Cl+sB…` in base64, `01000000d08c9ddf…` in
/// hex): a value encrypted with a Windows user's or machine's key (NuGet's `Password`, a saved RDP
/// `password 51:b:`, PowerShell's `ConvertFrom-SecureString`), which only that account on that machine
/// decrypts. Its plaintext form (`ClearTextPassword`) is what leaks.
pub fn is_dpapi_blob(secret: &[u8]) -> bool {
    secret.starts_with(b"AQAAANCMnd8BFdERjHoAwE/Cl+sBAAAA")
        || secret
            .get(..40)
            .is_some_and(|head| head.eq_ignore_ascii_case(b"01000000d08c9ddf0115d1118c7a00c04fc297eb"))
}

/// True for values that are obviously not real: template marks, a value made mostly of one repeated
/// character (`000000…`, `aaaaaa12`), or too few distinct characters to be random. Hand-typed stand-ins
/// (`abcdef123456…`, `a1b2c3d4…`) are [`is_stand_in`]'s.
///
/// A run of identical characters alone is not a placeholder: 6 in a row occur in about 1 random
/// 34-hex-digit Klaviyo key in 36,000 (`pk_6cf41755555513d31cf0d8e8d584ad168a`). A run rejects only when
/// it is a third of the value or 12 long, which random keys of these lengths practically never reach.
///
/// Long secrets (key blocks: PEM, OpenSSH, PGP) are judged by their text marks only: their fixed binary
/// headers hold runs such as `AAAAAAAAAAAB`, and armor headers such as `Comment: Name <mail>` hold `<`.
pub fn is_placeholder(secret: &[u8]) -> bool {
    let lower: Vec<u8> = secret.iter().map(u8::to_ascii_lowercase).collect();
    let long = secret.len() > LONG_SECRET;
    let marks = if long {
        &PLACEHOLDER_MARKS[..LONG_MARKS]
    } else {
        PLACEHOLDER_MARKS
    };
    if long {
        // A key block's `Comment:` line (PuTTY, PGP armor) is its owner's free text: `Comment: dummy-key`
        // on a real key is still a real key. Its body and other headers are judged.
        // A key block's base64 body is random too: a case-blind `xxxx` came once in about 600 PEM keys.
        let newline = |&b: &u8| b == b'\n';
        return std::iter::zip(secret.split(newline), lower.split(newline))
            .filter(|(_, lower)| !lower.starts_with(b"comment:"))
            .any(|(line, lower)| marks.iter().any(|m| has_mark(line, lower, m)));
    }
    // A Klaviyo key's company id is 6 random characters of its own (`pk_P7YouR_…`, `pk_qxxxXQ_…`): judge
    // the key by its 34 random hex digits.
    let (secret, lower) = match klaviyo_random_part(secret) {
        Some(body) => (body, body.to_vec()),
        None => (secret, lower),
    };
    if marks.iter().any(|m| has_mark(secret, &lower, m)) {
        return true;
    }
    if angle_template(&lower)
        || filled_in_later(secret)
        || addressed_to_reader(secret)
        || names_itself(secret)
        || fake_word(secret)
        || bare_prefix(secret)
    {
        return true;
    }
    // An annotated key's fixed fields are not evidence of a template; judge its random part alone.
    let secret = annotated_key_random_part(secret).unwrap_or(secret);
    let n = secret.len();
    let mut same = 1;
    for pair in secret.windows(2) {
        same = if pair[0].eq_ignore_ascii_case(&pair[1]) {
            same + 1
        } else {
            1
        };
        if same >= 6 && (same * 3 >= n || same >= 12) {
            return true;
        }
    }
    distinct_bytes(secret) <= 4
}

/// True for a hand-typed stand-in: counting pairs (`a1b2c3d4`), a run of 8 up or down the alphabet or the
/// digits (`abcdefgh`, `12345678`), or letters that walk the alphabet with other characters between
/// (`aB1cD2eF3gH4`). A random key practically never holds one (see each test's odds).
///
/// Unlike [`is_placeholder`]'s template marks, a stand-in written in a provider's exact format is how
/// people write that provider's key in tests and examples, and the other scanners' authors count it as a
/// finding (in their rule tests, 300 stand-ins in a provider's format are positives, 17 negatives). So the
/// generic and place rules refuse stand-ins, as does a rule that sets `refuse_stand_ins` (the hex Klaviyo key, whose
/// keys are this tool's headline and whose look-alikes users meet most); other provider rules report them.
pub fn is_stand_in(secret: &[u8]) -> bool {
    if secret.len() > LONG_SECRET {
        return false;
    }
    let secret = klaviyo_random_part(secret).unwrap_or(secret);
    let secret = annotated_key_random_part(secret).unwrap_or(secret);
    let lower = secret.to_ascii_lowercase();
    if counting_pairs(&lower) || interleaved_alphabet(&lower) {
        return true;
    }
    let mut up = 1;
    let mut down = 1;
    for pair in lower.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        up = if b.is_ascii_alphanumeric() && a.wrapping_add(1) == b {
            up + 1
        } else {
            1
        };
        down = if b.is_ascii_alphanumeric() && b.wrapping_add(1) == a {
            down + 1
        } else {
            1
        };
        if up >= 8 || down >= 8 {
            return true;
        }
    }
    false
}

/// True when the value is an identifier spelled as words (`OauthAuthorizationServerInstance`,
/// `accountTokenCreateParams`): camel or Pascal case, letters only, 24 or more, every word holding a
/// vowel. A rule whose format is a random alphanumeric body (`[A-Za-z0-9]{32}` after `twilio … auth`)
/// otherwise takes a class or type name from code that mentions the provider. Random base62 keys are
/// spelled so (no digit, no two capitals together, no capital last, a vowel in every word) about 4 times
/// in a million at 24 characters, and none in 2 million at 32.
pub fn spelled_as_words(secret: &[u8]) -> bool {
    if secret.len() < 24
        || !secret.iter().all(u8::is_ascii_alphabetic)
        || secret.last().is_some_and(u8::is_ascii_uppercase)
    {
        return false;
    }
    if secret
        .windows(2)
        .any(|w| w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase())
    {
        return false;
    }
    // Two words at least: a lowercase run alone is a lowercase key's look (`[a-z0-9]{30}` without a digit).
    let words: Vec<&[u8]> = words_by_capitals(secret).collect();
    words.len() >= 2
        && words
            .iter()
            .all(|word| word.iter().any(|b| b"aeiouyAEIOUY".contains(b)))
}

/// The words of a camel- or Pascal-case identifier: each starts at a capital (the first at the start).
fn words_by_capitals(id: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut starts: Vec<usize> = (1..id.len()).filter(|&i| id[i].is_ascii_uppercase()).collect();
    starts.insert(0, 0);
    starts.push(id.len());
    (0..starts.len() - 1).map(move |k| &id[starts[k]..starts[k + 1]])
}

/// True when the value is nothing but counting runs of 3 or more, up or down (`abcdef123456`,
/// `abc123`, `1234abcd`, `ABCD4321`): how people type a stand-in when eight in a row would look too
/// fake. Each character of a random key continues a run with chance about 1/36, so a 12-character key
/// made of runs comes about once in 10^12. Asked of generic rules' values only (a test's `Value:
/// "abcdef123456"` beside a `token` key): a provider's format and context are evidence enough that
/// such a value is meant as that provider's key, and its rule reports it. A token prefix of up to six
/// letters before `-` or `_` (`sk-123abc456def`) is not part of the stand-in.
pub fn made_of_runs(secret: &[u8]) -> bool {
    let body = match secret.iter().position(|&b| b == b'-' || b == b'_') {
        Some(p) if (1..=6).contains(&p) && secret[..p].iter().all(u8::is_ascii_alphabetic) => &secret[p + 1..],
        _ => secret,
    };
    let lower = body.to_ascii_lowercase();
    if lower.len() < 6 {
        return false;
    }
    let step = |a: u8, b: u8| {
        b.is_ascii_alphanumeric() && a.is_ascii_alphanumeric() && (a.wrapping_add(1) == b || b.wrapping_add(1) == a)
    };
    let mut run = 1;
    let mut dir = 0i8;
    for pair in lower.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let d = if a.wrapping_add(1) == b { 1 } else { -1 };
        if step(a, b) && (run == 1 || d == dir) {
            run += 1;
            dir = d;
        } else {
            if run < 3 {
                return false;
            }
            run = 1;
            dir = 0;
        }
    }
    run >= 3
}

/// How many different byte values `data` holds.
pub fn distinct_bytes(data: &[u8]) -> usize {
    let mut seen = [false; 256];
    data.iter()
        .filter(|&&b| !std::mem::replace(&mut seen[b as usize], true))
        .count()
}

/// Length of a Microsoft common annotated security key (Azure DevOps PATs, App Configuration and
/// Container Registry secrets, ...): 52 random base62 characters, the fixed signature `JQQJ9` plus a kind
/// character, a two-character date, 12 platform-reserved and 4 provider-reserved characters, the provider's
/// 4-character signature (`AZDO`) and a 4-character checksum.
const ANNOTATED_KEY_LEN: usize = 84;
const ANNOTATED_RANDOM_LEN: usize = 52;

/// The 52 random characters of a common annotated security key, or `None` for any other value.
///
/// The reserved fields are mostly zero bits, which base64 spells as a run of a dozen or more `A`s
/// (`…JQQJ99BAACAAAAAAAAAAAAASAZDO…`): the run filter would call every real key a template. See:
/// issue 13 (Azure DevOps PATs in the new format were all rejected as placeholders).
/// Layout: https://github.com/microsoft/security-utilities (`LegacyCommonAnnotatedSecurityKey`).
fn annotated_key_random_part(secret: &[u8]) -> Option<&[u8]> {
    let random = secret.get(..ANNOTATED_RANDOM_LEN)?;
    let annotated = secret.len() == ANNOTATED_KEY_LEN
        && secret.get(ANNOTATED_RANDOM_LEN..ANNOTATED_RANDOM_LEN + 4) == Some(b"JQQJ".as_slice())
        && secret.iter().all(u8::is_ascii_alphanumeric);
    annotated.then_some(random)
}

/// The 34 random hex digits of a Klaviyo private key in the newer form (`pk_`, a 6-character company id,
/// `_` and 34 hex), or `None` for any other value. The company id is random too, and about 3 keys in a
/// million spell a template mark in it (`…YouR_`, `xxxx`).
fn klaviyo_random_part(secret: &[u8]) -> Option<&[u8]> {
    let body = secret.get(10..)?;
    let new_form = secret.len() == 44
        && secret.starts_with(b"pk_")
        && secret[3..9].iter().all(u8::is_ascii_alphanumeric)
        && secret[9] == b'_'
        && body.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    new_form.then_some(body)
}

/// Digest algorithms and other names whose value is a hash or a revision, as they prefix a value
/// (`sha256:…`, `--hash=sha256:…`, `"integrity": "sha512-…"`, `repo.git#…`, `/commit/…`, Go's `h1:…`).
const DIGEST_PREFIXES: &[&[u8]] = &[
    b"sha1:",
    b"sha224:",
    b"sha256:",
    b"sha384:",
    b"sha512:",
    b"md5:",
    b"sha1=",
    b"sha256=",
    b"sha512=",
    b"md5=",
    b"sha1-",
    b"sha256-",
    b"sha384-",
    b"sha512-",
    b".git#",
    b"/commit/",
    b"/commits/",
    b"/tree/",
    b"/blob/",
    b" h1:",
];

/// Words that, as the name a value is given or just before it on its line, say the value is a digest or a
/// revision: `checksum md5 9e10…`, `pinned to commit 4f2a…`, `"version": "c0ffee…"`.
const DIGEST_WORDS: &[&[u8]] = &[
    b"sha1",
    b"sha256",
    b"sha512",
    b"md5",
    b"checksum",
    b"digest",
    b"commit",
    b"revision",
    b"integrity",
    b"etag",
];
/// Names that say so only when they are the value's own name (`hash = "…"`, `rev: …`), since `hash`
/// also names salts and HMAC secrets further along a line (`hash_secret = …`).
const DIGEST_NAMES: &[&[u8]] = &[b"hash", b"version", b"rev", b"ref", b"sum", b"sha"];

/// True when `secret` begins with one of a rule's token prefixes: a keyword of three bytes or more that
/// holds a separator (`pk_`, `ghp_`, `xoxb-`), ASCII case ignored. A letters-only prefix (`EAAB`, `AKIA`)
/// does not count: inside base64 data in a binary (certificates in an executable) it starts random runs
/// that are not secrets.
pub fn opens_with_prefix(keywords: &[crate::rules::Text], secret: &[u8]) -> bool {
    keywords.iter().any(|k| {
        k.len() >= 3
            && !k.bytes().all(|b| b.is_ascii_alphanumeric())
            && secret
                .get(..k.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(k.as_bytes()))
    })
}

/// True when the secret at `start` sits in a string that is the value of a key named as a placeholder (a
/// form field's `'placeholder' => 'mongodb+srv://appwrite:Yx42…@cluster0…'`, an input's
/// `placeholder="sk_live_…"`): text shown in an empty field, never the credential in use. The string
/// opens on the secret's line; the key may end the line before it. An `example:` is not one: people
/// paste the key they use into API documentation's examples. The engine asks it of free-form values
/// only (a URL's password): a token in its provider's format is reported even there.
pub fn placeholder_value(hay: &[u8], start: usize) -> bool {
    let line = &hay[start.saturating_sub(300)..start];
    let Some(open) = line.iter().rposition(|&b| matches!(b, b'"' | b'\'' | b'`' | b'\n')) else {
        return false;
    };
    if line[open] == b'\n' {
        return false;
    }
    assigned_word(&line[..open]).is_some_and(|word| word.to_ascii_lowercase().ends_with(b"placeholder"))
}

/// The last word of the name an assignment gives the value after `before` (the text up to the value,
/// its opening quote taken off): `name: `, `name = `, `"name" => `, `--name=`; a dotted or dashed name's
/// whole run (`admin.password`). `None` when `before` ends in no assignment.
pub fn assigned_word(before: &[u8]) -> Option<&[u8]> {
    let before = before.trim_ascii_end();
    let name = before
        .strip_suffix(b"=>")
        .or_else(|| before.strip_suffix(b":"))
        .or_else(|| before.strip_suffix(b"="))?
        .trim_ascii_end();
    let name = name
        .strip_suffix(b"\"")
        .or_else(|| name.strip_suffix(b"'"))
        .unwrap_or(name);
    let start = name
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
        .map_or(0, |i| i + 1);
    Some(&name[start..])
}

/// True when the secret at `start..end` is a digest, a commit id or a hashed file name rather than a key:
/// a value of any shape right after a digest prefix (`sha256:`), or a hex value of a digest's length (32,
/// 40, 64 or 128) after a digest word on its line, after `@` (an action pinned to a commit), named
/// `hash`/`version`/`rev`, or followed by a file extension or domain (`vendor/lib-9e10….tgz`).
///
/// Name-keyed rules (`(?i:sentry)…[a-f0-9]{64}`) take such values when a lock file, a pinned dependency
/// or a changelog names the provider: found on redash's uv.lock, and for 40 rules on a probe of lock-file
/// and CI lines. A real key is not written after `sha256:`, and a random hex key named `hash` is a hash.
pub fn digest_context(hay: &[u8], start: usize, end: usize) -> bool {
    let line_start = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |i| i + 1);
    let before: Vec<u8> = hay[line_start.max(start.saturating_sub(40))..start]
        .iter()
        .map(u8::to_ascii_lowercase)
        .collect();
    if DIGEST_PREFIXES.iter().any(|p| before.ends_with(p)) {
        return true;
    }
    let secret = &hay[start..end];
    let hex = matches!(secret.len(), 32 | 40 | 64 | 128)
        && (secret.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            || secret.iter().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')));
    if !hex {
        return false;
    }
    let name_end = before
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'"' | b'\'' | b'=' | b':' | b'>'))
        .map_or(0, |i| i + 1);
    let name = &before[..name_end];
    // A value named a key is one, whatever digest its line names (`validation="SHA1" validationKey="…"`);
    // so is Telegram's `api_hash`, an app's credential despite its name.
    if name.ends_with(b"key") || name.ends_with(b"api_hash") {
        return false;
    }
    if before.ends_with(b"@") || DIGEST_WORDS.iter().any(|w| memchr::memmem::find(&before, w).is_some()) {
        return true;
    }
    let named = DIGEST_NAMES.iter().any(|n| {
        name.ends_with(n)
            && name[..name.len() - n.len()]
                .last()
                .is_none_or(|b| !b.is_ascii_alphanumeric())
    });
    let after = &hay[end..hay.len().min(end + 2)];
    named || (after.len() == 2 && after[0] == b'.' && after[1].is_ascii_lowercase())
}

/// True when four letter-digit pairs count up together (`a1b2c3d4`, `r5s6t7u8`, `1a2b3c4d`): the commonest
/// hand-typed fake value. Random keys practically never hold one (about 1 in 10^12 per position). A value
/// whose random part (after its prefix) is hex needs six (`a1b2c3d4e5f6`, all its letters): with only `a`-`f`
/// for letters, four pairs come once in about 2 million random 34-digit keys (`pk_…c8d9e0f1…`, a real
/// Klaviyo key), six practically never.
fn counting_pairs(lower: &[u8]) -> bool {
    let next_digit = |a: u8, b: u8| a.is_ascii_digit() && b == if a == b'9' { b'0' } else { a + 1 };
    let next_letter = |a: u8, b: u8| a.is_ascii_lowercase() && a != b'z' && b == a + 1;
    // The random part: what follows a token's prefix (`pk_`, `sk-live-`), else the whole value.
    let body = lower
        .rsplit(|b| matches!(b, b'_' | b'-' | b'.' | b':'))
        .next()
        .unwrap_or(lower);
    let hex = body.len() >= 16 && body.iter().all(u8::is_ascii_hexdigit);
    let pairs = if hex { 6 } else { 4 };
    lower.windows(2 * pairs).any(|w| {
        let (letters, digits) = if w[0].is_ascii_lowercase() { (0, 1) } else { (1, 0) };
        let letter = |i: usize| w[2 * i + letters];
        let digit = |i: usize| w[2 * i + digits];
        digit(0).is_ascii_digit()
            && (1..pairs).all(|i| next_letter(letter(i - 1), letter(i)) && next_digit(digit(i - 1), digit(i)))
    })
}

/// True when the letters alone run through the alphabet for 8 or more, whatever sits between them
/// (`aB1cD2eF3gH4`, `abcd1234efgh5678`, `abc123def456ghi789`): the other common hand-typed fake. In a random
/// base62 key each next letter continues a run with chance 1/26, so a run of 8 comes about once in 10^10
/// positions.
fn interleaved_alphabet(lower: &[u8]) -> bool {
    let mut up = 1;
    let mut down = 1;
    let mut prev: Option<u8> = None;
    for &b in lower.iter().filter(|b| b.is_ascii_lowercase()) {
        if let Some(a) = prev {
            up = if a.wrapping_add(1) == b { up + 1 } else { 1 };
            down = if b.wrapping_add(1) == a { down + 1 } else { 1 };
            if up >= 8 || down >= 8 {
                return true;
            }
        }
        prev = Some(b);
    }
    false
}

/// Lengths at which [`random_entropy_floor`] knows the floor; between them it interpolates.
const FLOOR_LENGTHS: [usize; 10] = [16, 20, 24, 28, 32, 40, 48, 64, 96, 128];
/// For each alphabet (hex, base36, base62, base64), the Shannon entropy that 99% of random strings of each
/// length in [`FLOOR_LENGTHS`] reach or exceed (the 1st percentile of 20,000 draws; `benches/entropy_floor.py`).
const FLOORS: [[f64; 10]; 4] = [
    [2.66, 2.90, 3.04, 3.18, 3.26, 3.41, 3.50, 3.62, 3.76, 3.82],
    [3.12, 3.41, 3.61, 3.77, 3.90, 4.11, 4.26, 4.47, 4.70, 4.82],
    [3.33, 3.65, 3.86, 4.07, 4.20, 4.45, 4.64, 4.90, 5.22, 5.40],
    [3.38, 3.65, 3.89, 4.07, 4.22, 4.47, 4.66, 4.92, 5.25, 5.43],
];

/// The entropy a random string of `secret`'s length and alphabet reaches 99 times in 100: a generic
/// rule's `min_entropy` is capped at it, so that a threshold tuned for long base64 values does not drop
/// random keys that are short or hex. Shannon entropy grows with length and alphabet: a random 32-digit hex key
/// has 3.63 bits per character at the median, and a fixed 3.5 dropped 18% of them (and 55% at 24
/// digits). `None` below 16 characters, where human-made values (`Password1234`) reach a random one's
/// entropy and the rule's own threshold stands.
pub fn random_entropy_floor(secret: &[u8]) -> Option<f64> {
    let n = secret.len();
    if n < FLOOR_LENGTHS[0] {
        return None;
    }
    let (mut lower, mut upper, mut other) = (false, false, false);
    let mut hex = true;
    for &b in secret {
        match b {
            b'a'..=b'z' => {
                lower = true;
                hex &= b <= b'f';
            }
            b'A'..=b'Z' => {
                upper = true;
                hex &= b <= b'F';
            }
            b'0'..=b'9' => {}
            _ => other = true,
        }
    }
    let row = match () {
        _ if other => 3,
        _ if lower && upper => 2,
        _ if hex => 0,
        _ => 1,
    };
    let floors = &FLOORS[row];
    let i = FLOOR_LENGTHS.partition_point(|&l| l <= n);
    if i == FLOOR_LENGTHS.len() {
        return Some(floors[i - 1]);
    }
    // FLOOR_LENGTHS[i - 1] <= n < FLOOR_LENGTHS[i] (i >= 1: n >= the first length).
    let (l0, l1) = (FLOOR_LENGTHS[i - 1] as f64, FLOOR_LENGTHS[i] as f64);
    let t = (n as f64 - l0) / (l1 - l0);
    Some(floors[i - 1] + t * (floors[i] - floors[i - 1]))
}

/// The entropy `secret` must reach under a rule whose `min_entropy` is `min`. A generic rule's values have
/// no length or alphabet of their own, nor have those of a rule with `entropy_floor`: with `floor` the
/// threshold is capped at what a random value of the candidate's shape reaches ([`random_entropy_floor`]).
/// A provider rule's threshold is set for its format (`benches/peer-examples/entropy_audit.py`), and a
/// config's is the user's word.
pub fn entropy_threshold(min: f64, secret: &[u8], floor: bool) -> f64 {
    if !floor {
        return min;
    }
    random_entropy_floor(secret).map_or(min, |floor| floor.min(min))
}

/// True for a hex string that a person altered, not a random key: hex digits in both cases after any
/// capital prefix (`84f2cfA0…9Ab4…`: a random base62 value of 20 characters or more is all hex digits
/// about once in 10^9, and no issuer mixes the case of a hex key), hex with one to three other letters
/// (`5488620aa9073q09…`), or an odd number of hex digits with letters among them (a hex encoding of
/// bytes has an even number).
/// Generic rules ask: their values have no format of their own to check.
pub fn is_altered_hex(secret: &[u8]) -> bool {
    // A `0x` before hex is how code writes it (an hCaptcha secret, a contract's key), not a stray letter.
    let secret = match secret.strip_prefix(b"0x") {
        Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => hex,
        _ => secret,
    };
    if secret.len() < 20 || !secret.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let others = secret.iter().filter(|b| !b.is_ascii_hexdigit()).count();
    // A capital prefix is a type tag (Twilio's `AC` + 32 lowercase digits), not a change of case.
    let prefix = secret.iter().take(4).take_while(|b| b.is_ascii_uppercase()).count();
    let body = &secret[prefix..];
    let lower = body.iter().any(|b| matches!(b, b'a'..=b'f'));
    let upper = body.iter().any(|b| matches!(b, b'A'..=b'F'));
    match others {
        0 => (lower && upper) || ((lower || upper) && secret.len() % 2 == 1),
        1..=3 => secret.len() >= 24 && !secret.iter().any(u8::is_ascii_uppercase),
        _ => false,
    }
}

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_quotes_read_as_plain_quotes_at_the_same_offsets() {
        let mut out = b"left over".to_vec();
        let hay = br#"k = \"v\", w = \\\"x\\\", it\'s \n \\ a\"#;
        assert!(has_escaped_quote(hay));
        assert!(unescaped_quotes(hay, &mut out));
        assert_eq!(out, br#"k =  "v" , w =    "x"   , it' s \n \\ a\"#);
        assert_eq!(out.len(), hay.len());
        let json = br#"{\n\"auth\": \"Y29u=\"}, '\"v\"'"#;
        assert!(unescaped_quotes(json, &mut out));
        assert_eq!(out, br#"{\n "auth" :  "Y29u= "}, ' "v" '"#);
        // Nothing to unescape: the buffer is not touched.
        let mut out = b"left over".to_vec();
        let plain = br#"k = "v" \n \\ end\"#;
        assert!(!has_escaped_quote(plain));
        assert!(!unescaped_quotes(plain, &mut out));
        assert_eq!(out, b"left over");
    }

    #[test]
    fn delimitation() {
        let hay = b"x=pk_abc; ypk_abc; pk_abcd; %3Dpk_abc \\npk_abc";
        // `pk_abc` at 2..8 is delimited by `=` and `;`.
        assert!(is_delimited(hay, 2, 8));
        // at 11..17 it is glued to `y`.
        assert!(!is_delimited(hay, 11, 17));
        // at 19..25 it is followed by `d`.
        assert!(!is_delimited(hay, 19, 25));
        // a percent escape and an escaped newline are not glue.
        assert!(is_delimited(hay, 31, 37));
        assert!(is_delimited(hay, 40, 46));
    }

    #[test]
    fn printf_slots_are_templates_and_random_percent_s_is_not() {
        for t in ["%s", "api_key=%s", "Bearer %s", "%s:%s", "k-%s-x", "abc%s"] {
            assert!(is_placeholder(t.as_bytes()), "{t}");
        }
        // A generated password holds `%s` or `%S` by chance.
        for p in [
            "Uf4XxEhqSCZTR1A4fGnAZ-W0pIw%M*8-mNr.T8=C%Sl$ubUFJ",
            "7gEPPT+M~LPl%D3A*N7U7b3%s1w+O-wv7-kH3",
        ] {
            assert!(!is_placeholder(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn identifiers_spelled_as_words() {
        for id in [
            "OauthAuthorizationServerInstance",
            "accountTokenCreateParams",
            "SecretsManagerClientBuilder",
        ] {
            assert!(spelled_as_words(id.as_bytes()), "{id}");
        }
        for value in [
            "zB2wNvUvteqYGEi9EQ1Nv1LOsfakWUgv",
            "QxkTrwpLmnBvcXzqWeRtYuIoPaSdFgHj",
            "ShortCamelCase",
            "AccountTokenCreateParamsV",
            "AccountTknCreateParams",
            "abcdefghijklmnopqrstuvwxyz",
        ] {
            assert!(!spelled_as_words(value.as_bytes()), "{value}");
        }
        // Random 32-character base62 keys: none spelled so in 100,000.
        let spelled = random_base62_keys(32)
            .take(100_000)
            .filter(|key| spelled_as_words(key))
            .count();
        assert_eq!(spelled, 0);
    }

    #[test]
    fn quoted_values_run_to_their_closing_quote() {
        // `at(text, value)`: where the value read as `value` ends when extended.
        fn at<'a>(text: &'a str, value: &str) -> &'a str {
            let start = text.find(value).expect("value in text");
            let end = to_closing_quote(text.as_bytes(), start, start + value.len());
            &text[start..end]
        }
        assert_eq!(at("password=\"WN3N930G;uE0egLp\"", "WN3N930G"), "WN3N930G;uE0egLp");
        assert_eq!(at("token: 'Kq8vR2xLm9Pt:Zw4y'", "Kq8vR2xLm9Pt"), "Kq8vR2xLm9Pt:Zw4y");
        // Ended at its quote already, unquoted, a space or a backslash before the quote, or no quote near.
        assert_eq!(at("password=\"Kq8vR2xLm9Pt\";", "Kq8vR2xLm9Pt"), "Kq8vR2xLm9Pt");
        assert_eq!(at("password=Kq8vR2xLm9Pt;x=\"y\"", "Kq8vR2xLm9Pt"), "Kq8vR2xLm9Pt");
        assert_eq!(at("password=\"Kq8vR2xLm9Pt, then\"", "Kq8vR2xLm9Pt"), "Kq8vR2xLm9Pt");
        assert_eq!(at("password=\"Kq8vR2xLm9Pt;\\\"", "Kq8vR2xLm9Pt"), "Kq8vR2xLm9Pt");
        let far = format!("password=\"Kq8vR2xLm9Pt;{}\"", "x".repeat(60));
        assert_eq!(at(&far, "Kq8vR2xLm9Pt"), "Kq8vR2xLm9Pt");
    }

    #[test]
    fn dpapi_blobs_are_encrypted() {
        assert!(is_dpapi_blob(
            b"AQAAANCMnd8BFdERjHoAwE/Cl+sBAAAA8Gql/CMwJWuOZDmiKxh2MBwpc9XQ"
        ));
        assert!(is_dpapi_blob(
            b"01000000D08C9DDF0115D1118C7A00C04FC297EB0100000048f1a7c2"
        ));
        assert!(!is_dpapi_blob(b"AQAAAB3NzaC1yc2EAAAADAQABAAABAQC7"));
        assert!(!is_dpapi_blob(b"0100"));
    }

    #[test]
    fn values_made_of_counting_runs() {
        for fake in [
            "abcdef123456",
            "ABC123",
            "1234abcd",
            "abcd4321",
            "XYZ789",
            "sk-123abc456def",
            "key_abcdef123456",
        ] {
            assert!(made_of_runs(fake.as_bytes()), "{fake}");
        }
        for real in [
            "a8Kq2mZP9vL4",
            "abc1x9",
            "ab12cd34",
            "abcdef12345x",
            "12ab",
            "sk-abc",
            "sk-a8Kq2mZP9vL4",
        ] {
            assert!(!made_of_runs(real.as_bytes()), "{real}");
        }
    }

    #[test]
    fn bare_prefixes_are_placeholders() {
        for p in ["dckr_pat_", "sk_live_", "glpat-", "xoxb-", "ghp_"] {
            assert!(bare_prefix(p.as_bytes()) && is_placeholder(p.as_bytes()), "{p}");
        }
        for p in [
            "dckr_pat_Wq7rT2yX9pL4mK8v",
            "Sk_live_",
            "pk_a1_",
            "averylongprefixname_",
            "_",
            "token",
        ] {
            assert!(!bare_prefix(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn placeholders() {
        for p in [
            "pk_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "pk_your_private_key_here",
            "%3Cpassword%3E",
            "pk_aaaaaa0123",
            "pk_0123456789abcdef0123456789abcdef01",
            "pk_EXAMPLEKEY",
            "${KLAVIYO_KEY}",
            "pk_abababababababababababababababab",
            "%s8f2a91c4e7d3b6",
            "REPLACE_WITH_PASSWORD",
            "__DBPASSWORD__",
            "##AUTH0_CLIENT_SECRET##",
            "%%extension_auth_pw%%",
            "env/NS1_API_KEY",
            "#{DbPassword}",
            "#{Octopus.Action.DbPassword}#",
            "@db.password@",
            "$(SqlPassword)",
            "%DB_PASSWORD%",
            "yourWeak(!)Password",
            "YourApiKeyHere",
            "sk_live_replace-with-your-key",
            "Change_me_2024",
            "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",
            "CAISuwJ1q6Ft5B2yu9Kiaa5E0VnVJ8q2o3P4r5S6t7U8v9W0xYz",
            "1a2b3c4d5e6f7a8b9c0d",
            "aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2yZ3aA4bB5cC6dD7eE8fF9gG0hH1iJ2kL3m==",
            "EXAabc123def456ghi789jkl012mno345",
            "sbp_abcd1234efgh5678ijkl9012mnop3456qrst7890",
            "z9y8x7w6v5u4t3s2r1q0",
            "asdfqwer1234asdf",
            "Qwerty123!",
            "ASDFGHJKL2024",
            "!ChangeMe!",
            "[MASKED]",
        ] {
            assert!(
                is_placeholder(p.as_bytes()) || is_stand_in(p.as_bytes()) || shannon_entropy(p.as_bytes()) < 3.0,
                "{p}"
            );
        }
        // A random password that merely opens or closes like a deployment token.
        for p in [
            "__Kq8vR2xLm9Pt",
            "#{Kq8v;R2xLm9Pt}",
            "@Kq8v!R2xLm9Pt@",
            "%4Fq8vR2xLm9Pt%",
            // A WordPress salt that happens to end with `>` (its alphabet holds `<>`).
            "3q`Ja:4uw+<Vex[=AFd2vwb&7QE6:*oSMmAj;tW>B sR$-JV@uPNV_(HZh^XNje>",
        ] {
            assert!(!is_placeholder(p.as_bytes()), "{p}");
        }
        assert!(is_placeholder(b"<your-api-key>") && is_placeholder(b"<secret") && is_placeholder(b"token>"));
        assert!(!is_placeholder(b"pk_4f9a1c2e7b3d8a6f0e5c9b2a7d4e1f3c8a")); // pkhound:allow

        // Three counting pairs, or pairs that do not count together, are not the fake pattern.
        assert!(!is_stand_in(b"pk_a1b2c3e7f9d04b6a28c5e1f7d3b9a0c4e6")); // pkhound:allow
        assert!(!is_stand_in(b"pk_a1c2e3g4f9d04b6a28c5e1f7d3b9a0c4e6")); // pkhound:allow
        let block = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB{}",
            "Qx7".repeat(40)
        );
        assert!(!is_placeholder(block.as_bytes()));
        let doc = "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----".repeat(3);
        assert!(is_placeholder(doc.as_bytes()));
        // A key block's comment is free text; its body is judged.
        let putty = format!(
            "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: dummy-key\nPublic-Lines: 2\n{}",
            "AAAAB3NzaC1yc2EAAAABJQAAAQEAm5d5/daeAzNGKouE5k55gfHvpXzosIDIJgrq\n".repeat(3)
        );
        assert!(!is_placeholder(putty.as_bytes()));
        assert!(is_placeholder(
            putty.replace("dummy-key", "key").replace("m5d5", "EXAMPLE").as_bytes()
        ));
    }

    #[test]
    fn digests_and_commit_ids_are_not_keys() {
        let judge = |text: &str, secret: &str| {
            let start = text.find(secret).unwrap();
            digest_context(text.as_bytes(), start, start + secret.len())
        };
        let h64 = "9e0b1f7c2a4d6e8f0a1c3e5b7d9f1a3c5e7b9d0f2a4c6e8b0d2f4a6c8e0b2d4f";
        let h40 = &h64[..40];
        let h32 = &h64[..32];
        for (text, secret) in [
            (format!("sentry-sdk==1.4 --hash=sha256:{h64}"), h64),
            (
                format!("\"resolved\": \"git+https://github.com/acme/sparkpost.git#{h40}\""),
                h40,
            ),
            (format!("uses: acme/wandb-action@{h40} # v2"), h40),
            (format!("# wandb: pinned to commit {h40}"), h40),
            (format!("netlify_version = \"{h40}\""), h40),
            (format!("\"file:vendor/bugsnag-{h32}.tgz\""), h32),
            (format!("rollbar checksum md5 {h32}"), h32),
            (
                format!("integrity sha512-{}", "Qm8rZk2LwXv7TnP4sJd9HcY1gFb6RtMa"),
                "Qm8rZk2LwXv7TnP4sJd9HcY1gFb6RtMa",
            ),
        ] {
            assert!(judge(&text, secret), "{text}");
        }
        for (text, secret) in [
            (format!("SENTRY_AUTH_TOKEN={h64}"), h64),
            (format!("wandb_api_key = \"{h40}\""), h40),
            (format!("HASH_SECRET = \"{h64}\""), h64),
            (format!("rollbar_token: {h32}\n# see commit history"), h32),
            (format!("commit abc\nDATADOG_API_KEY={h32}"), h32),
            (format!("token = \"{h32}\"."), h32),
            // Only hex of a digest's length is judged by the words around it.
            (format!("release_sha = \"{}\"", &h64[..36]), &h64[..36]),
            // A value named a key, on a line that names its digest algorithm.
            (
                format!("<machineKey validation=\"SHA1\" validationKey=\"{h40}\" />"),
                h40,
            ),
        ] {
            assert!(!judge(&text, secret), "{text}");
        }
    }

    /// Random base62 keys of `len` characters from a fixed xorshift stream, so that a test of how often a
    /// filter calls a random key a fake is deterministic.
    fn random_base62_keys(len: usize) -> impl Iterator<Item = Vec<u8>> {
        const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        std::iter::repeat_with(move || {
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    BASE62[(state % 62) as usize]
                })
                .collect()
        })
    }

    /// The interleaved-alphabet test must not call random base62 keys fakes: 100,000 random 40-character
    /// keys are all kept.
    #[test]
    fn random_base62_keys_are_not_interleaved_alphabets() {
        for key in random_base62_keys(40).take(100_000) {
            let key = key.to_ascii_lowercase();
            assert!(!interleaved_alphabet(&key), "{}", String::from_utf8_lossy(&key));
        }
    }

    /// Real keys that happen to repeat a character are keys. See: issue 12 ("The placeholder filter that
    /// rejects a run of 6 identical characters drops about 1 real Klaviyo key in 36,000").
    #[test]
    fn repeated_characters_in_a_random_key_are_not_a_placeholder() {
        assert!(!is_placeholder(b"pk_6cf41755555513d31cf0d8e8d584ad168a")); // pkhound:allow
        assert!(!is_placeholder(b"pk_6cf41700000013d31cf0d8e8d584ad168a")); // pkhound:allow
        assert!(is_placeholder(b"pk_0000000000000000000000000000000000"));
        assert!(is_placeholder(b"pk_000000000000a4c123b1612dd272d13716"));
        assert!(is_placeholder(b"aaaaaa12"));
    }

    /// A common annotated security key's reserved fields are runs of `A`; its random part decides.
    /// See: issue 13.
    #[test]
    fn annotated_keys_are_judged_by_their_random_part() {
        let random = "Qm7XkR2vT9pLw4NcY8sHd3ZfB6gJ1aUeV5tKo0iMnE7rWq2xCbyP";
        let real = format!("{random}JQQJ99BLACAAAAAAAAAAAAASAZDO3kTq");
        assert_eq!(real.len(), 84);
        assert!(!is_placeholder(real.as_bytes()), "{real}");
        // The same fields after a made-up random part are still a placeholder.
        let fake = format!("{}JQQJ99BLACAAAAAAAAAAAAASAZDO3kTq", "a".repeat(52));
        assert!(is_placeholder(fake.as_bytes()));
        let counting = format!("a1b2c3d4{}JQQJ99BLACAAAAAAAAAAAAASAZDO3kTq", &random[8..]);
        assert!(is_stand_in(counting.as_bytes()));
        assert!(!is_stand_in(real.as_bytes()));
        // Without the signature at offset 52 the run of `A`s counts as before.
        let unsigned = real.replacen("JQQJ", "KQQJ", 1);
        assert!(is_placeholder(unsigned.as_bytes()));
    }

    #[test]
    fn counting_pairs_in_hex_need_all_six_letters() {
        // A real key's random digits can hold four counting pairs (`c8d9e0f1`): with letters a-f only,
        // that is about one 34-digit key in two million. Six pairs, every hex letter, is a fake.
        assert!(!is_stand_in(b"cedb02f675d1c8d9e0f1cd69dd4cfdff9c"));
        assert!(!is_stand_in(b"pk_cedb02f675d1c8d9e0f1cd69dd4cfdff9c"));
        assert!(is_stand_in(b"pk_a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7"));
        // A new-form key's company id is random: a mark spelled in it is chance.
        assert!(!is_placeholder(b"pk_P7YouR_ddda2bbd15336fbe52cf5d3c82dfb29585"));
        assert!(!is_placeholder(b"pk_qxxxXQ_4d70ff666870f17f5828f08dd34ca84af9"));
        assert!(is_stand_in(b"pk_Xy7AbC_0123456789abcdef0123456789abcdef01"));
        assert!(!is_stand_in(b"pk_P7YouR_ddda2bbd15336fbe52cf5d3c82dfb29585"));
        // Marks in mixed case are chance in a random base62 token; in one case they are a template.
        assert!(!is_placeholder(b"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"));
        assert!(!is_placeholder(
            b"xoxb-756805345849-7115404691246-0duMmyrdy03yAqGEgJBPzhDW"
        ));
        assert!(is_placeholder(b"ghp_XXXXXqES7IavV40Kh54tq1uN0sm7cF"));
        assert!(is_placeholder(b"sk_live_DummyKey4IavV40Kh54tq1uN0sm7cF"));
        // The same in a key block's base64 body.
        let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDxXxXq7FiH9QLCLP6wX0Wx25Jm7j4PXod8";
        let block = format!("-----BEGIN PRIVATE KEY-----\n{body}\n{body}\n-----END PRIVATE KEY-----");
        assert!(!is_placeholder(block.as_bytes()));
        assert!(is_placeholder(block.replace("DxXxXq", "XXXXXq").as_bytes()));
        assert!(is_stand_in(b"a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7"));
        assert!(is_stand_in(b"3f1a2b3c4d5e6f9a0b7c4e2d8f1a0b9c6d"));
        // Outside hex, four pairs still mark a fake.
        assert!(is_stand_in(b"xK9r5s6t7u8Qw2Lm"));
        // A stand-in is not a template: the two are asked of different rules.
        assert!(!is_placeholder(b"a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7"));
        assert!(!is_stand_in(b"sk_live_DummyKey4IavV40Kh54tq1uN0sm7cF"));
    }

    fn klaviyo_engine() -> &'static crate::engine::Engine {
        static ENGINE: std::sync::OnceLock<crate::engine::Engine> = std::sync::OnceLock::new();
        ENGINE.get_or_init(|| {
            let rules: Vec<_> = crate::rules::builtin()
                .expect("built-in rules load")
                .into_iter()
                .filter(|r| r.spec.id == "klaviyo-private-key")
                .collect();
            crate::engine::Engine::compile(&rules).expect("the Klaviyo rule compiles")
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Any well-formed Klaviyo private key (either form) in an ordinary assignment is found, once.
        #[test]
        fn random_klaviyo_keys_are_always_found(
            company in proptest::option::of("[A-Za-z0-9]{6}"),
            body in "[0-9a-f]{34}",
        ) {
            let key = match company {
                Some(c) => format!("pk_{c}_{body}"),
                None => format!("pk_{body}"),
            };
            let text = format!("KLAVIYO_PRIVATE_API_KEY={key}\n");
            let engine = klaviyo_engine();
            let mut scratch = engine.scratch();
            let found: Vec<&[u8]> = engine
                .scan(text.as_bytes(), &mut scratch)
                .iter()
                .map(|m| &text.as_bytes()[m.start..m.end])
                .collect();
            proptest::prop_assert_eq!(found, vec![key.as_bytes()]);
        }
    }

    #[test]
    fn names_of_made_up_values_are_not_secrets() {
        for name in [
            "nonMatchingToken",
            "FAKE_API_KEY",
            "mock_secret",
            "invalidToken",
            "exampleSecret",
            "authenticity_token",
            "passwordHash",
            "hashed_password",
            "passwordSalt",
            "PasswordHashAlgorithm",
            "client_side_token",
            "SODA_APP_TOKEN",
            "plainToken",
            "encryptedToken",
            "NextToken",
            "nextPageToken",
            "ContinuationToken",
            "cancellationToken",
            "NEXT_PAGE_TOKEN",
            "ALGOLIA_SEARCH_ONLY_API_KEY",
            "AWS_REGION",
            "smtpUser",
            "com_braze_api_key",
            "facebook_client_token",
            "FacebookClientToken",
            "DD_CLIENT_TOKEN",
            "PADDLE_CLIENT_TOKEN",
            "MIXPANEL_TOKEN",
            "mixpanelProjectToken",
            "checkout_token",
            "cartToken",
            "SHOPIFY_API_KEY",
            "storefrontAccessToken",
            "PUBLIC_STOREFRONT_API_TOKEN",
            "ClientRequestToken",
            "IdempotencyToken",
            "LockToken",
            "NextLockToken",
            "ChangeToken",
            "Postman-Token",
            "X-Amz-Credential",
            "basic.auth.user.info",
            "auth_tag",
            "signing_key_fingerprint",
            "nifi.security.keystorePasswd.protected",
            "admin.passwordMtime",
            "TOKEN_EXPIRY",
            "sessionTokenTtl",
            "version_token",
            "generate-password",
        ] {
            assert!(is_reference_name(name.as_bytes()), "{name}");
        }
        for name in [
            "apiToken",
            "PRIVATE_STOREFRONT_API_TOKEN",
            "STRIPE_SECRET_KEY",
            "client_secret",
            "matchingToken",
            "HASHICORP_TOKEN",
            "PartnerApiSecret",
            "refreshToken",
            "statuspage_token",
            "STATUSPAGE_TOKEN",
            "USER_TOKEN",
            "ALGOLIA_ADMIN_API_KEY",
            "CLIENT_TOKEN",
            "oauth_client_token",
            "SHOPIFY_API_SECRET",
            "checkout_secret",
            "unlock_token",
            "exchange_token",
            "postman_api_key",
            "timeTrackerToken",
        ] {
            assert!(!is_reference_name(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn placeholder_values() {
        let at = |text: &str, secret: &str| placeholder_value(text.as_bytes(), text.find(secret).unwrap());
        assert!(at(
            "'placeholder' =>\n    'mongodb+srv://appwrite:Yx42hafg7Q4fgkxe@cluster0.example.net/',",
            "Yx42"
        ));
        assert!(at("<input placeholder=\"Wq8vR2xLm9PtZw4\">", "Wq8v"));
        assert!(!at(
            "      example: \"postgres://app:Wq8vR2xLm9Pt@db:5432/app\"",
            "Wq8v"
        ));
        assert!(!at(
            "'value' =>\n    'mongodb+srv://appwrite:Yx42hafg7Q4fgkxe@cluster0.example.net/',",
            "Yx42"
        ));
        assert!(!at("DATABASE_URL=postgres://app:Wq8vR2xLm9Pt@db:5432/app", "Wq8v"));
        assert!(!at(
            "\"placeholder_path\": \"postgres://app:Wq8vR2xLm9Pt@db:5432/app\"",
            "Wq8v"
        ));
    }

    #[test]
    fn paths_of_names() {
        for path in [
            "/run/secrets/api_token",
            "/Users/Shared/Keys/App2Key.pem",
            "/api/v1/oauth2/token",
            "~/keys/deploy-2024.key",
            "./config/kubernetes.io/serviceaccount",
            "/home/runner/work/acme-2024/app",
            "/en/enterprise-server@3.0/authentication",
            "/etc/puppetlabs/r10k/ssh/id_ed25519",
        ] {
            assert!(path_of_names(path.as_bytes()), "{path}");
        }
        for value in [
            "/k3JxAb9Qz+Lm7TpW2vR8sYn4Hd6Fg1Bc0Xe5Ui=",
            "/Hq8vR2x/Lm9PtZw4yKn5Bd7c",
            "api/v1/token",
            "/",
        ] {
            assert!(!path_of_names(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn quoted_values_lose_their_quotes() {
        let hay = br#"a = "K;q8vR2x" b = 'K;q8' c = "K;q8' d = Kq8 e('x', 'K:q8v') f = "g=K;q8""#;
        let span = |needle: &[u8]| {
            let s = hay.windows(needle.len()).position(|w| w == needle).unwrap();
            (s, s + needle.len())
        };
        let (s, e) = span(br#""K;q8vR2x""#);
        assert_eq!(unquoted(hay, s, e, None), Some((s + 1, e - 1)));
        let (s, e) = span(b"'K;q8'");
        assert_eq!(unquoted(hay, s, e, None), Some((s + 1, e - 1)));
        let (s, e) = span(br#""K;q8'"#);
        assert_eq!(unquoted(hay, s, e, None), None);
        let (s, e) = span(b"Kq8");
        assert_eq!(unquoted(hay, s, e, None), Some((s, e)));
        // The opening quote before the value, taken by the assignment's form.
        let (s, e) = span(b"K:q8v'");
        assert_eq!(unquoted(hay, s, e, None), Some((s, e - 1)));
        // A closing quote with no opening one: the end of a string the value is part of.
        let (s, e) = span(br#"K;q8""#);
        assert_eq!(unquoted(hay, s, e, None), None);
    }

    #[test]
    fn unquoted_values_with_separators_only_on_setting_lines() {
        let value = |line: &str, name: &str, value: &str| {
            let ns = line.find(name).unwrap();
            let s = line.rfind(value).unwrap();
            unquoted(line.as_bytes(), s, s + value.len(), Some((ns, ns + name.len())))
        };
        assert!(value("DB_PASSWORD=qZT,WWEAs0U42", "DB_PASSWORD", "qZT,WWEAs0U42").is_some());
        assert!(value(
            "x=1\n  export DB_PASSWORD = qZT,WWEAs0U42",
            "DB_PASSWORD",
            "qZT,WWEAs0U42"
        )
        .is_some());
        assert!(value("  password: a;b8vR2xLm9", "password", "a;b8vR2xLm9").is_some());
        assert!(value("connect(password=abc,user=bob)", "password", "abc,user=bob)").is_none());
        assert!(value("Server=db;Password=ab;Database=app", "Password", "ab;Database=app").is_none());
        assert!(value(
            "        Password::defaults($password2);",
            "Password",
            ":defaults($password2);"
        )
        .is_none());
        assert!(value(
            "Password::min(12)->max(64)->symbols()",
            "Password",
            ":min(12)->max(64)->symbols()"
        )
        .is_none());
    }

    #[test]
    fn entropy_bounds() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn entropy_floor_follows_length_and_alphabet() {
        assert_eq!(random_entropy_floor(b"Password1234"), None);
        let floor = |s: &str| random_entropy_floor(s.as_bytes()).unwrap();
        // Table points, and a value between two of them.
        assert_eq!(floor("b8578c5b5524b3ef441eb2c335db53c3"), 3.26);
        assert_eq!(floor("B8578C5B5524B3EF441EB2C335DB53C3"), 3.26);
        assert_eq!(floor("g8578c5b5524b3ef441eb2c335db53c3"), 3.90);
        assert_eq!(floor("G8578c5b5524b3ef441eb2c335db53c3"), 4.20);
        assert_eq!(floor("-8578c5b5524b3ef441eb2c335db53c3"), 4.22);
        assert!((floor(&"a".repeat(36)) - (3.26 + 3.41) / 2.0).abs() < 1e-9);
        assert_eq!(floor(&"a".repeat(500)), 3.82);
        // The random 32-digit key that a fixed 3.5 dropped now passes; a fake made of few digits does not.
        assert!(shannon_entropy(b"b8578c5b5524b3ef441eb2c335db53c3") >= floor("b8578c5b5524b3ef441eb2c335db53c3"));
        assert!(shannon_entropy(b"1212121234343434abababab56565656") < 3.26);
    }

    #[test]
    fn code_identifiers() {
        let line = b"this.configmapK8sSecret = configmapK8sSecret;";
        assert!(code_identifier(line, 26, 44));
        let quoted = b"secret = \"configmapK8sSecret\";";
        assert!(!code_identifier(quoted, 10, 28));
        let env = b"SECRET=q8Xv2LmRt7Kz4PwN";
        assert!(!code_identifier(env, 7, env.len()));
        // A name called, a member in arithmetic: code; a value in a query or a `.env`: not.
        for (line, value, refused) in [
            (
                "generated_token = SHA512Base64PBKDF2PasswordHasher().encode(",
                "SHA512Base64PBKDF2PasswordHasher",
                true,
            ),
            (
                "otp_secret_key = base64.b32encode(os.urandom(10))",
                "base64.b32encode",
                true,
            ),
            (
                "t===\"success\"?\"pass\":t&&B5t.has(t)?t:\"unknown\"",
                "t&&B5t.has",
                true,
            ),
            (
                "{marker:n,length:0,token:t.tokens.length-1,end:-1}",
                "t.tokens.length-1",
                true,
            ),
            ("{token:Xq3MV8pL2nR7TW4yb9cF-1,end:-1}", "Xq3MV8pL2nR7TW4yb9cF-1", false),
            ("API_TOKEN=q8Xv2LmRt7Kz4PwN-12", "q8Xv2LmRt7Kz4PwN-12", false),
            (
                "\trawDescData = file_northwind_auth_v1_auth_proto_rawDesc\n",
                "file_northwind_auth_v1_auth_proto_rawDesc",
                true,
            ),
            (
                "api_token: 3hokYZT549T7_3kD_Yunu5OSVUlr\n",
                "3hokYZT549T7_3kD_Yunu5OSVUlr",
                false,
            ),
            ("api_token: Kq8vR_xLmPt_ZwyHn\n", "Kq8vR_xLmPt_ZwyHn", false),
        ] {
            let start = line.find(value).unwrap();
            assert_eq!(
                code_identifier(line.as_bytes(), start, start + value.len()),
                refused,
                "{line}"
            );
        }
    }

    #[test]
    fn base64_of_placeholders() {
        for p in [
            "c2tfbGl2ZV9SRVBMQUNFX01F",
            "cGtfPHByaXZhdGVfa2V5Pg==",
            "cGtfUkVQTEFDRV9NRQ==",
        ] {
            assert!(encodes_placeholder(p.as_bytes()), "{p}");
        }
        // A random key, base64 of a real-looking password, and text that is not base64.
        for p in [
            "q8Xv2LmRt7Kz4PwNq8Xv2LmR",
            "S3E4dlIyeExtOVB0Wnc0eQ==",
            "REPLACE_ME_PLEASE",
        ] {
            assert!(!encodes_placeholder(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn values_that_name_themselves() {
        for p in [
            "oplog_reader_password",
            "user_001_password",
            "bearer-token-123",
            "DB_PASSWORD",
            "my-secret-token",
            "master_password",
            "db-password",
        ] {
            assert!(names_itself(p.as_bytes()), "{p}");
        }
        for p in [
            "sk-ant-api03-FAKE-KEY-FOR-TESTS",
            "ghp_fake_token_value",
            "s3cRe7-test-fixture-only",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        assert!(!is_placeholder(b"q8XvfakeRt7Kz4PwN"));
        for p in [
            "correct_horse_battery_staple",
            "Db_Password",
            "db_password2",
            "q8Xv_2LmR_password",
            "password",
        ] {
            assert!(!names_itself(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn passwords_that_echo_the_user() {
        let url = b"postgresql://fernly:fernly@localhost:5432/fernly_development";
        assert!(echoes_user(url, 20, 26));
        let other = b"postgresql://fernly:Xq8vT2mL@db";
        assert!(!echoes_user(other, 20, 28));
        // Only a whole user name: `xfernly:fernly` names another user.
        let longer = b"postgresql://xfernly:fernly@db";
        assert!(!echoes_user(longer, 21, 27));
        assert!(echoes_user(b"admin:admin", 6, 11));
    }

    #[test]
    fn dotted_names() {
        for name in [
            "settings.DB_PASSWORD",
            "process.env.API_KEY",
            "R.string.api_key",
            "Config.smtpPassword",
            "this.getAPIKey",
            "ConfigurationManager.AppSettings.",
            "secrets.GITHUB_TOKEN2",
            "base64.StdEncoding.EncodeToString",
            "oauth2ClientSecretPat.FindAllStringSubmatch",
            "KnAM4a_development.yml.enc",
            "authenticatedData.accessKeyV1",
            "aws.clientS3",
            "V2Namespace2.Core.AccountTokenCreateParams",
        ] {
            assert!(dotted_name(name.as_bytes(), 0, name.len()), "{name}");
        }
        for value in [
            "gagBLvn.Uif2bwdZh5",
            "QNFQDRBN.Vuv6vgHRrqth9",
            "h.W46Vbk8rd_w4ZiFtpmepc",
            "aQ.Wx8ZPq",
            "Summer.2024",
            "plainpassword",
        ] {
            assert!(!dotted_name(value.as_bytes(), 0, value.len()), "{value}");
        }
        // Quoted, a value spelled as names is a string literal unless it is a file name or a
        // lowercase key.
        for (line, refused) in [
            ("password = \"Xkqa.Vbnt\"", false),
            ("password = Xkqa.Vbnt", true),
            ("password: 'auth.password.label'", true),
            ("path = \"KnAM4a_development.yml.enc\"", true),
            ("secret = \"Config.smtpPassword\"", false),
            (
                "AUTH_BACKEND_SAML2 = 'authentication.backends.saml2.SAML2Backend'",
                true,
            ),
            ("secret = \"q8xv.lm2r.Kt7zPwN\"", false),
        ] {
            let start = line.find(['\'', '"']).map_or(line.find("Xkqa").unwrap_or(0), |q| q + 1);
            let end = line[start..].find(['\'', '"']).map_or(line.len(), |q| start + q);
            assert_eq!(dotted_name(line.as_bytes(), start, end), refused, "{line}");
        }
    }

    #[test]
    fn values_running_on_as_base64() {
        let line = format!("KEY: AgB{}", "Zk3PqW9xLm2VtR8sNb4Y/".repeat(10));
        assert!(runs_on_as_base64(line.as_bytes(), 40));
        assert!(!runs_on_as_base64(b"token: Zk3PqW9xLm2VtR8sNb4YZk3PqW9xLm2V\n", 39));
        assert!(!runs_on_as_base64(b"Zk3P", 4));
    }

    #[test]
    fn values_inside_arns() {
        let at = |text: &str, value: &str| inside_arn(text.as_bytes(), text.find(value).unwrap());
        assert!(at(
            "\"Resource\": \"arn:aws:secretsmanager:eu-west-1:318204957716:secret:halden/deploy/config-Qm3xZa\"",
            "halden"
        ));
        assert!(!at("secret: halden/deploy/config-Qm3xZa", "halden"));
        assert!(at(
            "\"SECRETS_SOURCE\": \"aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:418273650912:secret:storefront/staging-Qx1a9T\"",
            "storefront"
        ));
        assert!(!at("arn = \"x\"\nsecret: Qm3xZaPk7LmN2vB8", "Qm3x"));
    }

    #[test]
    fn csv_password_columns() {
        let cells = |text: &str| {
            let he = text.find('\n').unwrap_or(text.len());
            csv_password_cells(text.as_bytes(), 0, he)
                .into_iter()
                .map(|(a, b)| text[a..b].to_string())
                .collect::<Vec<String>>()
        };
        assert_eq!(
            cells("name,url,username,password,note\nGrafana,https://g.acme.io,admin,Nomad-Quill-14,\niDRAC,https://10.0.0.5,root,\"Kelp,7882$\",\"a\nb\"\nempty,https://x,bob,,\n"),
            ["Nomad-Quill-14", "Kelp,7882$"]
        );
        assert_eq!(
            cells("\"Group\"\t\"Title\"\t\"Password\"\r\n\"Net\"\t\"FortiGate\"\t\"#qsj-PKh201\"\r\n"),
            ["#qsj-PKh201"]
        );
        assert_eq!(
            cells("folder,type,login_uri,login_username,login_password\n,login,https://pve,root@pam,3lkZ4IX\n"),
            ["3lkZ4IX"]
        );
        // Not a password column.
        assert!(cells("user,password_hash,passwordLastSet\nbob,$2b$12$abc,2024-01-01\n").is_empty());
        assert!(cells("a b c\n1 2 3\n").is_empty());
        assert_eq!(
            cells("subaccount,auth_id,auth_token\nnorth,SAYTM2NZK1NJU4ZTY5,L4LE3m0teXJ5HCfwvgobrZTkObc1aQX7UIn370t8\n"),
            ["L4LE3m0teXJ5HCfwvgobrZTkObc1aQX7UIn370t8"]
        );
        assert!(cells("sentence,token,pos\n1,running,VERB\n").is_empty());
    }

    #[test]
    fn object_keys_and_credential_ids() {
        let text = "{\"question\": \"how do I reset my password\", \"input_sha256\": \"21df46\"}";
        let start = text.find("input_sha256").unwrap();
        assert!(object_key(text.as_bytes(), start, start + "input_sha256".len()));
        let text = "define('DB_PASSWORD', 'Kq8vR2xLm9Pt');";
        let start = text.find("Kq8v").unwrap();
        assert!(!object_key(text.as_bytes(), start, start + 12));
        // A comparison that opens a block (`if password == "…":`).
        let text = "if username == \"adM1n\" and password == \"123P4ssW0rd@@\":\n    ok()";
        let start = text.find("123P").unwrap();
        assert!(!object_key(text.as_bytes(), start, start + 13));
        let text =
            "\"password\": {\"_secret\": \"airbyte_workspace_dc02dd09-7b97-4ecd-8631-56fdb2f0dc2c_secret_5f9e_v1\"}";
        let start = text.find("airbyte_").unwrap();
        assert!(generic_context_refusal(text.as_bytes(), start, text.rfind('"').unwrap()).is_some());
        assert!(credential_id(b"credential", b"1ff8feb2-a2d3-423e-9cd3-4a0b5cf11a91"));
        assert!(!credential_id(b"credential", b"Kq8vR2xLm9PtZw4yN7cB3kD6fG1sW5aQe2Tr"));
        assert!(!credential_id(b"api_key", b"1ff8feb2-a2d3-423e-9cd3-4a0b5cf11a91"));
    }

    #[test]
    fn stripe_object_ids() {
        assert!(stripe_object_id(b"tok_1PHt0vLkT0aQ8vNcP4bYq9Ws"));
        assert!(stripe_object_id(b"pm_1Q2w3E4r5T6y7U8i9O0pAsDf"));
        assert!(!stripe_object_id(b"sk_live_51Hx2kLmN8pQrStUvWxYz0123"));
        assert!(!stripe_object_id(b"tok_verylongplaceholdertokenwithoutdigits"));
        assert!(!stripe_object_id(b"token_1PHt0vLkT0aQ8vNcP4bYq9Ws"));
    }

    #[test]
    fn git_signing_key_ids() {
        let at = |text: &str, value: &str| {
            let start = text.find(value).unwrap();
            git_signing_key_id(text.as_bytes(), start, start + value.len())
        };
        let fingerprint = "357F25A0F3ED890B5148F40E0F9CF23A214F30CB";
        assert!(at(
            &format!("[user]\n\tname = Erik\n\tsigningkey = {fingerprint}\n"),
            fingerprint
        ));
        assert!(at("[user]\n  signingKey = 0F9CF23A214F30CB!\n", "0F9CF23A214F30CB!"));
        // A quoted value, or another name, is no git setting.
        assert!(!at(&format!("signingKey = \"{fingerprint}\""), fingerprint));
        assert!(!at(&format!("jwt_signing_key = {fingerprint}"), fingerprint));
    }

    #[test]
    fn rollbar_browser_snippets() {
        let text = "var _rollbarConfig = {\n    accessToken: \"be93bb48877c0d52580e71e88e36bfa5\",\n    captureUncaught: true,";
        assert!(rollbar_client_token(text.as_bytes(), text.find("be93").unwrap()));
        let text = "ROLLBAR_ACCESS_TOKEN=be93bb48877c0d52580e71e88e36bfa5";
        assert!(!rollbar_client_token(text.as_bytes(), text.find("be93").unwrap()));
    }

    #[test]
    fn mailgun_webhook_signature_tokens() {
        let token = "a4e38e09504841a2d78d145354014a8ecda59636c86622fa44";
        let at = |text: &str| {
            let start = text.find(token).unwrap();
            mailgun_signature_token(text.as_bytes(), start, start + token.len())
        };
        assert!(at(&format!(
            "{{\n  \"signature\": {{\n    \"token\": \"{token}\",\n    \"timestamp\": \"1715673921\","
        )));
        assert!(!at(&format!("MAILGUN_TOKEN={token}")));
        let text = format!("\"signature\": {{ \"token\": \"{}\"", &token[..40]);
        let start = text.find(&token[..40]).unwrap();
        assert!(!mailgun_signature_token(text.as_bytes(), start, start + 40));
    }

    #[test]
    fn braze_sdk_keys() {
        let at = |text: &str| {
            let start = text.find("dc94").unwrap();
            braze_sdk_key(text.as_bytes(), start, start + 36)
        };
        assert!(at(
            "let configuration = Braze.Configuration(\n  apiKey: \"dc947b15-32cb-48b5-90ac-8d2a97d8b0d2\",\n  endpoint: \"sdk.iad-05.braze.com\"\n)"
        ));
        assert!(at(
            "braze.initialize('dc947b15-32cb-48b5-90ac-8d2a97d8b0d2', { baseUrl: 'sdk.fra-02.braze.eu' });"
        ));
        // A REST key goes to a `rest.` endpoint.
        assert!(!at(
            "BRAZE = {\"REST_ENDPOINT\": \"https://rest.fra-02.braze.eu\", \"API_KEY\": \"dc947b15-32cb-48b5-90ac-8d2a97d8b0d2\"}"
        ));
        assert!(!at("api_key = \"dc947b15-32cb-48b5-90ac-8d2a97d8b0d2\""));
    }

    #[test]
    fn algolia_search_configurations() {
        let at = |text: &str, value: &str| {
            let start = text.find(value).unwrap();
            search_only_key(text.as_bytes(), start, start + value.len())
        };
        let docusaurus = "algolia: {\n  appId: \"IDL2HY3A0Z\",\n  apiKey: \"2a1629b0a9ecf61414889f5f104049f8\",\n  indexName: \"docs\",\n},";
        assert!(at(docusaurus, "2a16"));
        assert!(at(
            "docsearch({ appId: 'R2IYF7ETH7', apiKey: '599cec31baffa4868cae4e79f180729b', indexName: 'x' })",
            "599c"
        ));
        // A bundle names Algolia after the configuration, in the host it builds from the app id.
        assert!(at(
            "const Tn={appId:\"Y9AZ9HSYJB\",apiKey:\"fde3250b808ac6d1de014228ece6e5ae\",indexName:\"prod\"};fetch(`https://${Tn.appId}-dsn.algolia.net/1/indexes`)",
            "fde3"
        ));
        // An Algolia key with no search index beside it, or an index with no Algolia before it.
        assert!(!at(
            "ALGOLIA_APP_ID=IDL2HY3A0Z\nALGOLIA_API_KEY=2a1629b0a9ecf61414889f5f104049f8\n",
            "2a16"
        ));
        assert!(!at(
            "{ apiKey: '2a1629b0a9ecf61414889f5f104049f8', indexName: 'x' }",
            "2a16"
        ));
    }

    #[test]
    fn next_lines_after_empty_assignments() {
        let at = |text: &str, value: &str| next_line_after_empty_assignment(text.as_bytes(), text.find(value).unwrap());
        assert!(at("DB_PASSWORD=\n\nREDIS_HOST=127.0.0.1\n", "REDIS"));
        assert!(at("password:\r\nhost: db.internal\n", "host"));
        // Indented on the next line (YAML), or on the assignment's own line: the value itself.
        assert!(!at("password:\n  Zk3PqW9xLm2VtR8s\n", "Zk3P"));
        assert!(!at("DB_PASSWORD=Zk3PqW9xLm2VtR8s\n", "Zk3P"));
        // After an element's `>`, a value on its own line.
        assert!(!at("<password>\nZk3PqW9xLm2VtR8s\n</password>", "Zk3P"));
    }

    #[test]
    fn settings_of_their_own_and_encrypted_values() {
        assert!(setting_line(b"ANTHROPIC_MODEL=claude"));
        assert!(setting_line(b"signing.keyId=7C3A91F2"));
        assert!(!setting_line(b"Zk3PqW9x=LmVtR8s"));
        assert!(!setting_line(b"signing.keyId"));
        let nifi = b"nifi.security.keystorePasswd=HjY5k68kC4jfKKjX||9CavhOJgdxz5NopUMtFLpjTBCpFrSTeM";
        let start = 29;
        assert!(generic_context_refusal(nifi, start, start + 16).is_some());
        assert!(generic_context_refusal(b"password=HjY5k68kC4jfKKjX\n", 9, 25).is_none());
    }

    #[test]
    fn encrypted_data_loader_passwords_and_path_settings() {
        let props = "sfdc.password=efddd3d903818b669849c041dccea031fec3979b77261075f7bd44503fa6cdb1\nprocess.encryptionKeyFile=/opt/dataloader/conf/dataloader.key\n";
        assert!(dataloader_encrypted(props.as_bytes(), 14, 78));
        assert!(!dataloader_encrypted(
            b"sfdc.password=efddd3d903818b669849c041dccea031fec3979b77261075f7bd44503fa6cdb1\n",
            14,
            78
        ));
        assert!(setting_with_path(b"jwt_key=/etc/slurm/jwt_hs256.key"));
        assert!(!setting_with_path(b"Xk9=/vT2m7pL4wR8zQ"));
        assert!(!setting_with_path(b"Zk3PqW9xLmVtR8s"));
    }

    #[test]
    fn publishable_keys_and_public_search_keys() {
        let refused = |text: &str, value: &str| {
            let start = text.find(value).unwrap();
            generic_context_refusal(text.as_bytes(), start, start + value.len()).is_some()
        };
        assert!(refused(
            "OpenPay.setApiKey('pk_166a177b60dda3b4d90e24b3a1da0d4c');",
            "pk_166a177b60dda3b4d90e24b3a1da0d4c"
        ));
        assert!(refused(
            "apiKey: 'pk_live_51Hx2kLm9pQ8rS7tU6vW5xY4z'",
            "pk_live_51Hx2kLm9pQ8rS7tU6vW5xY4z"
        ));
        assert!(refused(
            "apiKey: 'klevu-163279107569385370',",
            "klevu-163279107569385370"
        ));
        // `sk_` and 32 hex digits is a private key; `pk_` and 34 a Klaviyo private key (its own rule's).
        assert!(!refused(
            "api_key = 'sk_166a177b60dda3b4d90e24b3a1da0d4c'",
            "sk_166a177b60dda3b4d90e24b3a1da0d4c"
        ));
        assert!(!openpay_public_key(b"pk_166a177b60dda3b4d90e24b3a1da0d4c12"));
    }

    #[test]
    fn badge_queries() {
        let at = |text: &str, value: &str| badge_query(text.as_bytes(), text.find(value).unwrap());
        let md = "[![Build](https://travis-ci.com/acme/app.svg?token=q8XsPpLzW3vT7mKdR2bN&branch=main)](…)";
        assert!(at(md, "q8Xs"));
        assert!(at(
            "<img src=\"https://codecov.io/gh/a/b/graph/badge.png?branch=main&token=Zk3PqW9xLm\">",
            "Zk3P"
        ));
        // A token in an API call's query, or after an image elsewhere on the line, is not a badge's.
        assert!(!at(
            "curl https://api.acme.io/v1/items?token=q8XsPpLzW3vT7mKdR2bN",
            "q8Xs"
        ));
        assert!(!at(
            "![logo](logo.svg) curl https://api.acme.io/x?token=q8XsPpLzW3vT7mKdR2bN",
            "q8Xs"
        ));
        assert!(!at("TOKEN=q8XsPpLzW3vT7mKdR2bN", "q8Xs"));
    }

    #[test]
    fn values_running_past_ascii() {
        let line = "password: '0Y8rMnww$*9VFYE\u{a7}59-!Fg1L6t&6lB'";
        let end = line.find('\u{a7}').unwrap();
        assert!(continues_past_ascii(line.as_bytes(), end));
        let quoted = "password: \u{201c}Zq8vK2mN4pR7\u{201d}";
        let end = quoted.find('\u{201d}').unwrap();
        assert!(!continues_past_ascii(quoted.as_bytes(), end));
        assert!(!continues_past_ascii(b"token = abc", 11));
        // German and French quotes close with \u{201c} and \u{bb}.
        for closed in [
            "Passwort \u{201e}Zq8vK2mN4pR7\u{201c}",
            "mot de passe \u{ab}Zq8vK2mN4pR7\u{bb}",
        ] {
            let end = closed.find("pR7").unwrap() + 3;
            assert!(!continues_past_ascii(closed.as_bytes(), end), "{closed}");
        }
    }

    #[test]
    fn base64_blobs() {
        let font = format!(
            "src:url(data:font/woff2;base64,{}1//0FQgRt7Xk2{})",
            "d09GMgABAAAAA".repeat(4),
            "Kx9+A/Qz".repeat(6)
        );
        let at = font.find("1//0").unwrap();
        assert!(inside_base64_blob(font.as_bytes(), at, at + 12));
        // A token ends at punctuation or a quote, even beside a long run on one side.
        let line = format!("token = \"1//0FQgRt7Xk2\" # {}", "A".repeat(64));
        let at = line.find("1//0").unwrap();
        assert!(!inside_base64_blob(line.as_bytes(), at, at + 12));
        let path = format!("{}/1//0FQgRt7Xk2", "x".repeat(40));
        assert!(!inside_base64_blob(path.as_bytes(), 41, path.len()));
    }

    #[test]
    fn published_samples() {
        assert!(is_published_sample(b"sk_test_4eC39HqLyjWDarjtT1zdp7dc"));
        assert!(is_published_sample(b"sk_test_4eC39HqLyjWDarjtT1zdp7dc:"));
        assert!(is_published_sample(
            b"0xAC0974BEC39A17E36BA4A6B4D238FF944BACB478CBED5EFCAE784D7BF4F2FF80"
        ));
        assert!(!is_published_sample(b"sk_test_4eC39HqLyjWDarjtT1zdp7dd"));
        // ethers.js' shared Alchemy key, as `const defaultApiKey = "…"` in every build of the library.
        assert!(is_published_sample(b"_gg7wSSi0KMBsdKnGVfHDueq6xMB9EkC"));
        // The Cosmos DB emulator's key with one character mistyped is still that key.
        assert!(is_published_sample(
            b"C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD7b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
        ));
    }

    #[test]
    fn altered_hex() {
        for s in [
            "84f2cfA002913e5afbe0a43d71e49ac9389Ab4f4f827bceAed69ec34f844ed22",
            "5488620aa9073q09f1a16e2b1dc357b6",
            "8b6f8d6594749cb659b1be03e6a0a2e",
        ] {
            assert!(is_altered_hex(s.as_bytes()), "{s}");
        }
        for s in [
            "b8578c5b5524b3ef441eb2c335db53c3",
            "B8578C5B5524B3EF441EB2C335DB53C3",
            "aq41rs72bt174yn1kk9d0c2m7x5p3w8z",
            "1234567890123456789012345",
            "AC52622b7a1ae01ce3b01d65976358f479",
            "5aab40e4",
        ] {
            assert!(!is_altered_hex(s.as_bytes()), "{s}");
        }
    }
}
