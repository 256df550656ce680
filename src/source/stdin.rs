//! Standard input as one blob, for `pkhound scan -` in pipelines.

use std::io::{self, Read};

use super::ScanError;
use crate::finding::ErrorKind;

/// Reads stdin into `buf` (at most `limit` bytes, raw: the scanner classifies it). Returns an error entry when input was
/// cut at the limit; the bytes read so far are still scanned.
pub fn read(buf: &mut Vec<u8>, limit: u64) -> Result<(), ScanError> {
    read_from(io::stdin().lock(), buf, limit)
}

fn read_from(reader: impl Read, buf: &mut Vec<u8>, limit: u64) -> Result<(), ScanError> {
    buf.clear();
    let err = |message: String| ScanError::new(ErrorKind::Stdin, "-", message);
    reader
        .take(limit.saturating_add(1))
        .read_to_end(buf)
        .map_err(|e| err(format!("reading standard input: {e}")))?;
    let truncated = buf.len() as u64 > limit;
    if truncated {
        buf.truncate(limit as usize);
    }
    if truncated {
        return Err(err(format!(
            "standard input is larger than --max-file-size ({limit} bytes): only the first {limit} bytes were scanned"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_at_the_limit_is_an_error_but_keeps_the_bytes() {
        let mut buf = Vec::new();
        let e = read_from(&b"0123456789"[..], &mut buf, 4).unwrap_err();
        assert_eq!(buf, b"0123");
        assert!(e.message.contains("only the first 4 bytes"));
        assert!(read_from(&b"0123"[..], &mut buf, 4).is_ok());
    }
}
