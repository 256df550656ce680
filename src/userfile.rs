//! Files the user names on the command line or in the environment (a config, a baseline, a fingerprint
//! key): read only when they are regular files. Opening a FIFO blocks until a writer comes, and a device
//! can read forever; either would hang a scan before it starts.

use std::{fs, io, path::Path};

/// The bytes of the regular file at `path` (symbolic links followed); anything else is an error whose
/// message says what the path is.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, not_regular(&meta)));
    }
    fs::read(path)
}

/// Like [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn not_regular(meta: &fs::Metadata) -> String {
    let ft = meta.file_type();
    let what = if ft.is_dir() {
        "a directory"
    } else {
        special_kind(&ft).unwrap_or("not a regular file")
    };
    format!("{what}, not a regular file")
}

#[cfg(unix)]
fn special_kind(ft: &fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        Some("a FIFO")
    } else if ft.is_char_device() {
        Some("a character device")
    } else if ft.is_block_device() {
        Some("a block device")
    } else if ft.is_socket() {
        Some("a socket")
    } else {
        None
    }
}

#[cfg(not(unix))]
fn special_kind(_: &fs::FileType) -> Option<&'static str> {
    None
}

/// An I/O error as a short lower-case phrase (`permission denied`, `a FIFO, not a regular file`).
pub fn message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => e.to_string(),
        io::ErrorKind::NotFound => "not found".to_string(),
        kind => kind.to_string().to_lowercase(),
    }
}
