//! pkhound: find leaked Klaviyo private API keys, and the secrets that sit beside them.
//!
//! Data flows one way: `source` → `engine` → `locate` (findings) → `triage` → `verify` (opt-in) →
//! `report`. `app` wires them for the command line; `main.rs` only maps the outcome to an exit code.

pub mod app;
pub mod audit;
pub mod cli;
pub mod decode;
pub mod engine;
pub mod finding;
pub mod fingerprint_key;
pub mod locate;
pub mod notebook;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod trace;
pub mod triage;
pub mod userfile;
pub mod verify;
