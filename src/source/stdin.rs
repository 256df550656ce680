//! Standard input, for `pkhound scan -` in pipelines: a stream the scanner reads in windows, so memory
//! stays bounded whatever comes down the pipe.

use std::io::{self, Read};

/// Standard input, locked for the scan.
pub fn reader() -> impl Read {
    io::stdin().lock()
}
