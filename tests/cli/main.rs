//! Integration tests: the built binary on fixture trees copied into temp directories.

mod archives;
mod audit;
mod common;
mod composite;
mod config;
mod delta;
mod deploy;
mod encoded;
mod exit_codes;
mod formats;
mod fp_corpus;
mod hidden;
mod history;
mod hostile;
mod integrity;
mod leak;
mod pipeline;
mod redaction;
mod report;
mod rules_cmd;
mod scan_tree;
mod staged;
mod timeline;
mod trust;
mod verify;
