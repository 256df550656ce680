//! Integration tests: the built binary on fixture trees copied into temp directories.

mod common;
mod exit_codes;
mod history;
mod hostile;
mod redaction;
mod rules_cmd;
mod scan_tree;
