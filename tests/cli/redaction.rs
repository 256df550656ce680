//! No output holds a planted secret unless `--show-secrets` asks for it.

use std::fs;

use crate::common::*;

#[test]
fn no_format_leaks_a_secret_without_show_secrets() {
    let dir = fixture_tree("basic");
    fs::write(dir.path().join(".gitignore"), "secret.local\n").unwrap();
    for format in ["text", "json", "jsonl", "sarif", "gitlab", "junit", "csv"] {
        for color in ["never", "always"] {
            let out = pkhound()
                .arg("scan")
                .arg(dir.path())
                .args(["--format", format, "--color", color])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1));
            let all = [out.stdout, out.stderr].concat();
            let text = String::from_utf8_lossy(&all);
            for (_, key) in PLANTED {
                assert!(!text.contains(key), "{format}/{color} output holds {key}");
                // Not even the body without its prefix.
                assert!(!text.contains(&key[8..]), "{format}/{color} output holds part of {key}");
            }
            for key in NOT_REPORTED {
                assert!(!text.contains(key), "{format}/{color} output holds {key}");
            }
        }
    }
}

#[test]
fn show_secrets_reveals_them_in_text_too() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.env"), "K=pk_a4c123b1612dd272d1371c17149d439536\n").unwrap();
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--show-secrets", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.matches("pk_a4c123b1612dd272d1371c17149d439536").count(),
        2,
        "{text}"
    );
}
