//! Where bytes come from. Every source hands out [`Blob`]s and reports what it could not read; none knows
//! about rules or reports.

pub mod archive;
pub mod fs;
pub mod git;
pub mod graph;
pub mod oid;
pub mod pack;
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

impl SkipReason {
    /// How reports name the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge { .. } => "too large",
            SkipReason::Special => "not a regular file",
            SkipReason::Symlink => "symbolic link",
        }
    }
}

/// What bytes are, decided in one place for every source: the same bytes get the same answer whether
/// they come from a file, standard input, the index or a history blob.
pub mod text {
    /// How much of the start of a blob decides its class. Looking only at a prefix lets the file source
    /// classify after reading it, and skip binary files without reading them whole.
    pub const SAMPLE: usize = 8192;

    /// The class of a blob, from its first [`SAMPLE`] bytes.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Class {
        /// UTF-8, Latin-1 or any other 8-bit text: scanned as bytes.
        Text,
        /// UTF-16, decoded to UTF-8 before scanning. `bom`: the first two bytes are a byte-order mark.
        Utf16 { big_endian: bool, bom: bool },
        /// Not text: a NUL byte in the sample that is not UTF-16's.
        Binary,
    }

    /// Classifies `bytes` by their first [`SAMPLE`] bytes.
    ///
    /// A byte-order mark alone does not make UTF-16: `FF FE` followed by plain ASCII is 8-bit text that
    /// happens to start with two odd bytes (decoding it as UTF-16 would turn a key into CJK characters).
    /// With a BOM, the rest is UTF-16 unless it reads as ASCII text with no NUL; without one, UTF-16 is
    /// recognised by the zero bytes of ASCII characters on one side of each pair.
    pub fn classify(bytes: &[u8]) -> Class {
        let sample = &bytes[..bytes.len().min(SAMPLE)];
        let bom = match sample {
            [0xFF, 0xFE, ..] => Some(false),
            [0xFE, 0xFF, ..] => Some(true),
            _ => None,
        };
        if let Some(big_endian) = bom {
            let body = &sample[2..];
            if memchr::memchr(0, body).is_some() || !ascii_text(body) {
                return Class::Utf16 { big_endian, bom: true };
            }
            return Class::Text;
        }
        if let Some(big_endian) = sniff_utf16(sample) {
            return Class::Utf16 { big_endian, bom: false };
        }
        if memchr::memchr(0, sample).is_some() {
            Class::Binary
        } else {
            Class::Text
        }
    }

    /// Whether a binary file cannot hold a secret as text, so that it is skipped unread past its first
    /// bytes: images, audio, video, fonts, PDFs, and compressed data of the formats not opened (bzip2,
    /// xz, zstd, 7z, rar: their bytes are not the text they hold). Decided by extension, then by magic
    /// number. The archives that are opened (zip family, tar, gzip: [`super::archive::kind`]) are not
    /// opaque. Every other binary file (SQLite databases, `.pyc`, executables, compiled bundles) is
    /// scanned as bytes: a key embedded as text in it is still a key.
    pub fn opaque(path: &str, sample: &[u8]) -> bool {
        const EXTENSIONS: &[&str] = &[
            "png", "jpg", "jpeg", "gif", "bmp", "ico", "icns", "webp", "tif", "tiff", "psd", "heic", "avif", "mp3",
            "mp4", "m4a", "m4v", "mov", "avi", "mkv", "webm", "wav", "flac", "ogg", "oga", "opus", "aac", "wmv", "flv",
            "ttf", "otf", "woff", "woff2", "eot", "pdf", "bz2", "xz", "zst", "7z", "rar", "lz4",
        ];
        const MAGIC: &[&[u8]] = &[
            b"\x89PNG",
            b"\xFF\xD8\xFF",
            b"GIF8",
            b"RIFF",
            b"BZh",
            b"\xFD7zXZ",
            b"7z\xBC\xAF",
            b"Rar!",
            b"%PDF",
            b"ID3",
            b"OggS",
            b"fLaC",
            b"wOFF",
            b"wOF2",
            b"\x28\xB5\x2F\xFD",
        ];
        let file = path.rsplit(['/', '!']).next().unwrap_or(path);
        let ext = file
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        EXTENSIONS.contains(&ext.as_str())
            || MAGIC.iter().any(|m| sample.starts_with(m))
            || sample.get(4..8) == Some(b"ftyp")
    }

    /// The text to scan: `raw` itself, or its UTF-16 decoding in `buf`; `None` for binary.
    pub fn prepare<'a>(raw: &'a [u8], buf: &'a mut Vec<u8>) -> Option<&'a [u8]> {
        match classify(raw) {
            Class::Text => Some(raw),
            Class::Binary => None,
            Class::Utf16 { big_endian, bom } => {
                decode_utf16(if bom { &raw[2..] } else { raw }, big_endian, buf);
                Some(buf.as_slice())
            }
        }
    }

    /// Mostly printable ASCII, tabs and line breaks: what 8-bit text after a stray BOM looks like.
    fn ascii_text(body: &[u8]) -> bool {
        if body.is_empty() {
            return true;
        }
        let text = body
            .iter()
            .filter(|&&b| matches!(b, b' '..=b'~' | b'\t' | b'\n' | b'\r'))
            .count();
        text * 10 >= body.len() * 9
    }

    /// Decodes UTF-16 `body` (no BOM) into `out` (cleared first) as UTF-8, for a source streamed in
    /// chunks that has classified its first one.
    pub fn decode_utf16_into(body: &[u8], big_endian: bool, out: &mut Vec<u8>) {
        decode_utf16(body, big_endian, out);
    }

    /// Decodes UTF-16 `body` (no BOM) into `out` as UTF-8. Unpaired surrogates become U+FFFD and an odd
    /// last byte is dropped: the rest is still scanned.
    fn decode_utf16(body: &[u8], big_endian: bool, out: &mut Vec<u8>) {
        out.clear();
        out.reserve(body.len());
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
    }

    /// BOM-less UTF-16 of mostly-ASCII text: nearly every other byte is zero, on one side only.
    fn sniff_utf16(sample: &[u8]) -> Option<bool> {
        let sample = &sample[..sample.len().min(4096) & !1];
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

    #[cfg(test)]
    mod tests {
        use super::*;

        fn decoded(bytes: &[u8]) -> Option<String> {
            let mut buf = Vec::new();
            prepare(bytes, &mut buf).map(|t| String::from_utf8_lossy(t).into_owned())
        }

        #[test]
        fn utf16_with_and_without_bom() {
            let text = "key=pk_abc\n";
            let le: Vec<u8> = [0xFF, 0xFE]
                .into_iter()
                .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
                .collect();
            assert_eq!(decoded(&le).as_deref(), Some(text));
            let be_nobom: Vec<u8> = "a longer line of text, pk_abc\n"
                .encode_utf16()
                .flat_map(u16::to_be_bytes)
                .collect();
            assert_eq!(decoded(&be_nobom).as_deref(), Some("a longer line of text, pk_abc\n"));
            assert_eq!(classify(b"plain ascii text here, long enough"), Class::Text);
        }

        /// See: issue 11 — `FF FE` then ASCII hid its key on disk but not in history.
        #[test]
        fn a_bom_before_ascii_text_is_not_utf16() {
            let mut bytes = vec![0xFF, 0xFE];
            bytes.extend_from_slice(b"KEY=pk_856403284f13fbb876cb4d064abc227eff\n"); // pkhound:allow
            assert_eq!(classify(&bytes), Class::Text);
        }

        /// See: issue 11 — UTF-16 with a BOM and no NUL in its first 8 KiB (non-Latin text first).
        #[test]
        fn utf16_with_a_bom_and_no_nul_in_the_sample() {
            let text: String = "парольключ密钥".repeat(400) + "pk_856403284f13fbb876cb4d064abc227eff"; // pkhound:allow
            let le: Vec<u8> = [0xFF, 0xFE]
                .into_iter()
                .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
                .collect();
            assert!(memchr::memchr(0, &le[..SAMPLE]).is_none());
            assert_eq!(decoded(&le).as_deref(), Some(text.as_str()));
        }

        #[test]
        fn nul_bytes_make_binary() {
            assert_eq!(classify(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00"), Class::Binary);
        }

        #[test]
        fn odd_length_and_lone_surrogates_do_not_panic() {
            assert_eq!(decoded(&[0xFF, 0xFE, 0x00, 0xD8, 0x41]).as_deref(), Some("\u{FFFD}"));
            for bytes in [&[0xFF_u8][..], &[0xFF, 0xFE], &[0xFE, 0xFF, 0x00], &[]] {
                let _ = decoded(bytes);
            }
        }
    }
}
