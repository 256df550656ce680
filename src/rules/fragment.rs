//! Named regex fragments a rule's `regex` (and its `[rule.pair]` regex) may call as `(?&name)`: one
//! spelling, kept here, of a pattern many rules need, so that a form one rule learns to read every rule
//! that calls the fragment reads too.
//!
//! `(?&name)` is PCRE's syntax for calling a named pattern; the `regex` crate has no such syntax and
//! rejects it, so a call can never be mistaken for a regex of its own. Each fragment is one
//! non-capturing group, which replaces the call as it is: build time does it for the built-in rules (`build.rs` includes this
//! file by path, so the baked rules and the rule files parsed at run time expand alike), and run time for
//! rules parsed from TOML (rule files as written, a user's `--config`).

/// `(?&assign)`: what stands between a variable's name and its value, up to the value or its opening
/// quote's whitespace (a rule adds `\s{0,3}['"]?` or its own). One alternative per form:
/// - a YAML block scalar: `name: >-` and the value indented on the next line;
/// - `=`, `:`, `:=`, `=>`, `||=`, `?=`, `+=`, `.=`, `:-` (a shell default, `${NAME:-value}`), R's `<-` and
///   `<<-`, however far
///   aligned (`db_password          = "…"`, as `terraform fmt` lines up a block), after an
///   optional closing quote or bracket (`ENV["NAME"] ||=`, `$cfg['name'] =`; a space between them is
///   how the engine reads an escaped closing quote, `os.environ[\"NAME\"] =` in a notebook) or a C
///   array's declarator (`char auth[] =`, `char key[33] =`);
/// - a call's next argument, or its `default=` keyword (`define('NAME', '…')`, `config('NAME',
///   default='…')`, Airflow's `Variable.get('name', default_var='…')`, a SQL row's `('name', '…')`);
/// - an XML element named by the name, with up to 3 attributes (`<apiKey type="x">…`), and a property
///   list's `<key>name</key><string>…` and a Hadoop configuration's `<name>name</name><value>…`;
/// - a typed declaration (`name string =`, `name: &'static str =`, Rust's `NAME: &[u8] = b"…"`, `name: String? =`, Visual Basic's
///   `Const name As String =`), a space before its `=` as formatters write it (an XML element's
///   `<PasswordWrapper plugin="…">` is no declaration);
/// - an Azure Resource Manager parameters file's `"name": { "value": "…" }`, on the next line too;
/// - an attribute pair (`key="name" value="…"`, an Android `<meta-data android:name="name"
///   android:value="…"`, a JSON `"name", "value": …` (a flag between them, as NiFi's parameter contexts
///   write `"name": "…", "sensitive": true, "value": …`), an HCL `{ name = "name", value = "…" }` as
///   Terraform writes an ECS container's environment) and a Kubernetes or ECS
///   `name:`/`value:` pair on the next line (CloudFormation's `OutputKey`/`OutputValue` and
///   `ParameterKey`/`ParameterValue` too);
/// - a default for when the environment lacks the variable (`process.env.NAME || "…"`, `?? '…'`,
///   `getenv("NAME") or "…"`, `unwrap_or("…"`, `orElse("…"`, `getOrElse("…"`), which ends at the
///   value's opening quote, on the next line too (Phoenix's `System.get_env("SECRET_KEY_BASE") ||`
///   then the value indented below);
/// - a comparison with a quoted value (`password == "…"`, `token !== '…'`): a credential checked against a
///   hard-coded one in code, which ends at the value's opening quote.
/// - a Go struct tag's default (`env:"API_KEY" envDefault:"…"`, caarlos0/env), which ends at the value's
///   opening quote.
/// - a call's quoted argument assigned to (Visual Basic's and VBScript's `.Item("NAME") =`,
///   `Session("NAME") =`, ASP's `.Fields("NAME") =`).
/// - a map entry between quotes (Scala's `"NAME" -> "…"`, Kotlin's `"NAME" to "…"`), which ends at the
///   value's opening quote.
/// - a value wrapped in a conversion call (Go's `NAME = []byte("…")`, Ktor's `NAME = hex("…")`,
///   `bytes.fromhex("…")`, `Buffer.from("…")`, `b64decode("…")`), which ends at the call's parenthesis.
/// - a Markdown table's row (`` | `NAME` | `…` | ``, `` | Password | `…` | ``), which ends at the value's
///   opening backtick.
/// - an HTML table's row, the name in one cell and the value in the next (`<td><p>API Key
///   Secret</p></td><td><p><code>…`, a Confluence page or an exported wiki);
/// - a COBOL data item's `PIC X(16) VALUE` (a copybook's `05 WS-DB-PASSWORD PIC X(16) VALUE '…'.`).
/// - a list's first item (`"hmacKeys": ["…"`, on the next line too; `tokens = ['…'`).
/// - a shell parameter's default (`NAME="${5:-…}"`, `NAME=${OTHER:=…}`), which ends at its `:-` or
///   `:=` (a script's positional argument, or another variable, with the value hard-coded behind it).
///
/// Repetitions are unbounded (`[ \t]+`, `[^'"<>\r\n]*`, a tag's `[^>]*`) where a count would only bound
/// what a line or an element bounds anyway: each counted copy is NFA states that every rule calling the
/// fragment compiles on its first keyword hit (counted, the fragment took about twice as long to build;
/// the HTML table's two `[^>]{0,60}` alone were 40% of its states).
pub const ASSIGN: &str = concat!(
    r#"(?:['"]?:[ \t]{0,3}[>|][-+1-9]{0,2}[ \t]*\r?\n[ \t]+"#,
    r#"|(?:(?:['"] ?)?\]?|\[[0-9]{0,5}\])(?:\s{0,3}|[ \t]+)(?:[:.?+|]{0,3}=>?|=>|:-?|<<?-)"#,
    r#"|['"]\s{0,3},\s{0,3}['"][A-Za-z]+['"]\s{0,3}:\s{0,3}(?:true|false)\s{0,3},\s{0,3}['"]value['"]\s{0,3}:"#,
    r#"|['"][ \t]{0,3},[ \t]{0,3}(?:default(?:_var|_value)?[ \t]{0,3}=[ \t]{0,3})?['"]"#,
    r#"|['"]?(?:\s{1,3}[A-Za-z:_-]+=['"][^'"<>\r\n]*['"]){0,3}\s{0,3}>\s{0,8}"#,
    r#"|</(?:key|name)>\s{0,8}<(?:string|value)>"#,
    r#"|(?:</(?:p|strong|b|span|code|th|td)>\s{0,3}){1,3}<td(?:\s[^>]*)?>\s{0,3}(?:<(?:p|code|span|strong)(?:\s[^>]*)?>\s{0,3}){0,3}"#,
    r#"|:?\s+&?(?:'static\s+|[Aa]s\s+)?\[?[A-Za-z][A-Za-z0-9\[\]<>]{0,15}\??\s{1,3}:?="#,
    r#"|['"]\s+(?:android:)?value\s{0,3}="#,
    r#"|['"]\s{0,3},\s{0,3}['"]value['"]\s{0,3}:"#,
    r#"|['"][ \t]{0,3}:[ \t]{0,3}\{\s{0,12}['"]value['"][ \t]{0,3}:"#,
    r#"|['"][ \t]{0,3},[ \t]{0,3}value[ \t]{0,3}=[ \t]{0,3}['"]"#,
    r#"|['"]?,?[ \t]*\r?\n[ \t]*-?[ \t]*['"]?(?i:(?:output|parameter)?value)['"]?[ \t]*[:=]"#,
    r#"|['"]?[\])]{0,2}\s{0,3}(?:\|\||\?\?|\?:|[ \t]or|\.(?:unwrap_or\(|unwrap_or_else\(\|_\|[ \t]{0,3}|or_?[eE]lse\(|getOrElse\())(?:[ \t]{0,3}|[ \t]*\r?\n[ \t]*)[`'"]"#,
    r#"|['"]?\]?[ \t]{0,3}[!=]==?[ \t]{0,3}['"]"#,
    r#"|"[ \t]+envDefault:""#,
    r#"|['"]\)[ \t]{0,3}={1,2}"#,
    r#"|['"](?:[ \t]{0,3}->[ \t]{0,3}|[ \t]+to[ \t]+)['"]"#,
    r#"|[ \t]*:?=[ \t]{0,3}(?:\[\]byte|hex|unhex|(?:bytes|bytearray)\.fromhex|Buffer\.from|(?:base64\.)?b64decode|hex\.DecodeString)\("#,
    r#"|`?[ \t]*\|[ \t]*`"#,
    r#"|[ \t]+(?i:PIC(?:TURE)?[ \t]+X)(?:\([0-9]{1,4}\))?[ \t]+(?i:VALUE)[ \t]+"#,
    r#"|[ \t]{0,3}=[ \t]{0,3}["']?\$\{[A-Za-z0-9_]+:?[-=]"#,
    r#"|['"]?[ \t]{0,3}[:=][ \t]{0,3}\[[ \t]*\r?\n?[ \t]*)"#,
);

/// `(?&aws_key_id)`: an AWS access key id as AWS issues it, the prefix of its kind (`AKIA` an IAM user's,
/// `ASIA` a temporary STS key's, `ABIA`, `ACCA`) and 16 base32 characters, or the older `A3T` form. One
/// spelling for every rule that finds a secret key by the key id beside it.
pub const AWS_KEY_ID: &str = "(?:(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}|A3T[A-Z0-9][A-Z0-9]{16})";

/// The fragments by name.
pub const FRAGMENTS: &[(&str, &str)] = &[("assign", ASSIGN), ("aws_key_id", AWS_KEY_ID)];

/// `regex` with every `(?&name)` replaced by its fragment; `None` when it calls none (nothing to copy).
/// `Err` names a call of an unknown fragment.
pub fn expand(regex: &str) -> Result<Option<String>, String> {
    if !regex.contains("(?&") {
        return Ok(None);
    }
    let mut out = String::with_capacity(regex.len() + ASSIGN.len());
    let mut rest = regex;
    while let Some(at) = rest.find("(?&") {
        out.push_str(&rest[..at]);
        let call = &rest[at + 3..];
        let Some(end) = call.find(')') else {
            return Err(format!("unclosed fragment call `{}`", &rest[at..]));
        };
        let name = &call[..end];
        let Some((_, fragment)) = FRAGMENTS.iter().find(|(n, _)| *n == name) else {
            let known: Vec<_> = FRAGMENTS.iter().map(|(n, _)| format!("(?&{n})")).collect();
            return Err(format!("unknown fragment `(?&{name})` (known: {})", known.join(", ")));
        };
        out.push_str(fragment);
        rest = &call[end + 1..];
    }
    out.push_str(rest);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_replaced_by_their_fragment() {
        assert_eq!(expand("(?i:token)").unwrap(), None);
        let expanded = expand(r#"TOKEN(?&assign)\s{0,3}['"]?(?P<secret>[a-z0-9]{20})"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            expanded,
            format!(r#"TOKEN{ASSIGN}\s{{0,3}}['"]?(?P<secret>[a-z0-9]{{20}})"#)
        );
        let twice = expand("(?:A(?&assign)|B(?&assign))").unwrap().unwrap();
        assert_eq!(twice.matches(ASSIGN).count(), 2);
        let re = regex::Regex::new(
            &expand(r#"^TOKEN(?&assign)\s{0,3}['"]?(?P<secret>[a-z0-9]{8})"#)
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        for text in [
            "TOKEN=abcd1234",
            "TOKEN: abcd1234",
            "TOKEN := \"abcd1234\"",
            "TOKEN\", default=\"abcd1234\"",
            "TOKEN', 'abcd1234'",
            "TOKEN\"] ||= \"abcd1234\"",
            "TOKEN:-abcd1234",
            "TOKEN || \"abcd1234\"",
            "TOKEN\") or \"abcd1234\"",
            "TOKEN: >-\n    abcd1234",
            "TOKEN\n    value: \"abcd1234\"",
            "TOKEN\" value=\"abcd1234\"",
            "TOKEN string = \"abcd1234\"",
            "TOKEN == \"abcd1234\"",
            "TOKEN !== 'abcd1234'",
            "TOKEN\"] != \"abcd1234\"",
            "TOKEN <- \"abcd1234\"",
            "TOKEN <<- 'abcd1234'",
            "TOKEN\") = \"abcd1234\"",
            "TOKEN\" -> \"abcd1234\"",
            "TOKEN  = []byte(\"abcd1234\"",
            "TOKEN = hex(\"abcd1234\"",
            "TOKEN` | `abcd1234` |",
            "TOKEN\" to \"abcd1234\"",
            "TOKEN=\"${5:-abcd1234}\"",
            "TOKEN = ${OTHER:=abcd1234}",
            "TOKEN\", default_var=\"abcd1234\"",
            "TOKEN\": [\"abcd1234\"",
            "TOKEN\": [\n      \"abcd1234\"",
            "TOKEN\", value = \"abcd1234\"",
            "TOKEN\", \"sensitive\": true, \"value\": \"abcd1234\"",
            "TOKEN          PIC X(16)  VALUE 'abcd1234'.",
            "TOKEN</p></td><td><p><code>abcd1234</code>",
        ] {
            let secret = re.captures(text).and_then(|c| c.name("secret")).map(|m| m.as_str());
            assert_eq!(secret, Some("abcd1234"), "{text:?}");
        }
        // A comparison with another name is no hard-coded value.
        for text in [
            "TOKEN abcd1234",
            "TOKEN.length abcd1234",
            "TOKEN(abcd1234)",
            "TOKEN == abcd1234",
        ] {
            assert!(!re.is_match(text), "{text:?}");
        }
    }

    #[test]
    fn aws_key_id_reads_the_issued_forms_only() {
        let re = regex::Regex::new(&format!("^{}$", expand("(?&aws_key_id)").unwrap().unwrap())).unwrap();
        for id in ["AKIAQEGLIYYDKWUZQ2EK", "ASIAJ7NHYYTTXDBS2IBR", "A3T0ABCDEFGHIJKLMNOP"] {
            assert!(re.is_match(id), "{id}");
        }
        // 0, 1, 8 and 9 are not base32 digits; a prefix AWS does not issue; one character short.
        for id in ["AKIA0EGLIYYDKWUZQ2EK", "AKZAQEGLIYYDKWUZQ2EK", "AKIAQEGLIYYDKWUZQ2E"] {
            assert!(!re.is_match(id), "{id}");
        }
    }

    #[test]
    fn an_unknown_or_unclosed_call_is_an_error() {
        let err = expand("A(?&asign)B").unwrap_err();
        assert!(
            err.contains("`(?&asign)`") && err.contains("(?&assign)") && err.contains("(?&aws_key_id)"),
            "{err}"
        );
        assert!(expand("A(?&assign").unwrap_err().contains("unclosed"));
    }
}
