//! Where bytes come from. Every source hands out [`Blob`]s and reports what it could not read; none knows
//! about rules or reports.

pub mod fs;
pub mod git;
pub mod staged;
pub mod stdin;

use crate::finding::Origin;
pub use crate::finding::ScanError;

/// Bytes to scan, and where they came from.
pub struct Blob<'a> {
    /// Relative to the scanned root, `/`-separated (`-` for stdin).
    pub path: &'a str,
    pub bytes: &'a [u8],
    pub origin: Origin,
}

/// Why a file was passed over on purpose. Skips are counted; the ones a user may not expect are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    Binary,
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// FIFOs, sockets, devices: opening them could block or read forever.
    Special,
    /// A symbolic link, while `--follow` is off.
    Symlink,
}

/// How bytes that are not UTF-8 are turned into text to scan.
pub mod text {
    /// If `bytes` is UTF-16 (a BOM, or the zero-byte pattern of ASCII text in UTF-16), decodes it into
    /// `out` as UTF-8 and returns true. Unpaired surrogates become U+FFFD: the rest is still scanned.
    pub fn decode_utf16(bytes: &[u8], out: &mut Vec<u8>) -> bool {
        let (big_endian, body) = match bytes {
            [0xFF, 0xFE, rest @ ..] => (false, rest),
            [0xFE, 0xFF, rest @ ..] => (true, rest),
            _ => match sniff_utf16(bytes) {
                Some(be) => (be, bytes),
                None => return false,
            },
        };
        out.clear();
        let units = body.chunks_exact(2).map(|p| {
            if big_endian {
                u16::from_be_bytes([p[0], p[1]])
            } else {
                u16::from_le_bytes([p[0], p[1]])
            }
        });
        let mut buf = [0u8; 4];
        for c in char::decode_utf16(units) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        true
    }

    /// BOM-less UTF-16 of mostly-ASCII text: nearly every other byte is zero, on one side only.
    fn sniff_utf16(bytes: &[u8]) -> Option<bool> {
        let sample = &bytes[..bytes.len().min(4096) & !1];
        if sample.len() < 16 || memchr::memchr(0, sample).is_none() {
            return None;
        }
        let pairs = sample.len() / 2;
        let even_zero = sample.iter().step_by(2).filter(|&&b| b == 0).count();
        let odd_zero = sample.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
        if odd_zero * 10 >= pairs * 9 && even_zero * 10 <= pairs {
            Some(false)
        } else if even_zero * 10 >= pairs * 9 && odd_zero * 10 <= pairs {
            Some(true)
        } else {
            None
        }
    }

    /// Binary: a NUL byte in the first 8 KiB (after UTF-16 has been ruled out).
    pub fn looks_binary(bytes: &[u8]) -> bool {
        memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn utf16_with_and_without_bom() {
            let text = "key=pk_abc\n";
            let le: Vec<u8> = [0xFF, 0xFE]
                .into_iter()
                .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
                .collect();
            let mut out = Vec::new();
            assert!(decode_utf16(&le, &mut out));
            assert_eq!(out, text.as_bytes());
            let be_nobom: Vec<u8> = "a longer line of text, pk_abc\n"
                .encode_utf16()
                .flat_map(u16::to_be_bytes)
                .collect();
            assert!(decode_utf16(&be_nobom, &mut out));
            assert_eq!(out, "a longer line of text, pk_abc\n".as_bytes());
            assert!(!decode_utf16(b"plain ascii text here, long enough", &mut out));
        }

        #[test]
        fn odd_length_and_lone_surrogates_do_not_panic() {
            let mut out = Vec::new();
            assert!(decode_utf16(&[0xFF, 0xFE, 0x00, 0xD8, 0x41], &mut out));
            assert_eq!(String::from_utf8(out).unwrap(), "\u{FFFD}");
        }
    }
}
