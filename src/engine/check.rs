//! Structural checks that turn "looks like a token" into "is a well-formed token".

use base64::Engine as _;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
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
    let decode = |part: &[u8]| -> Option<serde_json::Value> {
        let trimmed: &[u8] = part
            .strip_suffix(b"==")
            .or_else(|| part.strip_suffix(b"="))
            .unwrap_or(part);
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let Some(serde_json::Value::Object(h)) = decode(header) else {
        return false;
    };
    let alg_ok = h
        .get("alg")
        .and_then(|a| a.as_str())
        .is_some_and(|a| !a.eq_ignore_ascii_case("none"));
    alg_ok && matches!(decode(payload), Some(serde_json::Value::Object(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github_token(prefix: &str, body: &str) -> String {
        let sum = base62_6(crc32fast::hash(body.as_bytes()));
        format!("{prefix}{body}{}", std::str::from_utf8(&sum).unwrap())
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
    fn jwt_shape() {
        // {"alg":"HS256","typ":"JWT"} . {"sub":"1234567890"} . sig
        let good = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"; // pkhound:allow
        assert!(jwt(good));
        // {"alg":"none"}
        let none = b"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2ln";
        assert!(!jwt(none));
        assert!(!jwt(
            b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        ));
        assert!(!jwt(b"eyJub3QganNvbg.eyJ.x"));
    }
}
