//! Hostile input: nothing panics, nothing hangs, every hole shows in the report and the exit code.

use std::fs;

use crate::common::*;

const KEY: &str = "pk_a4c123b1612dd272d1371c17149d439536";

#[cfg(unix)]
#[test]
fn fifo_is_skipped_with_a_notice_and_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    fs::write(dir.path().join("ok.txt"), "nothing here\n").unwrap();
    // A blocking open of the FIFO would hang the scan: the assert_cmd timeout turns that into a failure.
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "json"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["stats"]["files"], 1);
    assert_eq!(report["stats"]["skipped_other"], 1);
    assert_eq!(report["notices"][0]["path"], "pipe");
}

#[cfg(unix)]
#[test]
fn broken_symlink_is_skipped_unless_followed_then_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("dangling")).unwrap();
    fs::write(dir.path().join("ok.txt"), "nothing here\n").unwrap();
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["stats"]["skipped_other"], 1);

    let (code, report, stderr) = scan_json(dir.path(), &["--follow"]);
    assert_eq!(code, 2, "{report}");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    assert!(errors[0]["path"].as_str().unwrap().ends_with("dangling"), "{report}");
    assert!(stderr.contains("dangling"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_an_error_and_the_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked.env");
    fs::write(&locked, format!("K={KEY}\n")).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&locked).is_ok() {
        eprintln!("running as root: chmod 000 does not stop reads, nothing to test");
        return;
    }
    fs::write(dir.path().join("ok.txt"), "nothing here\n").unwrap();
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(report["errors"][0]["path"], "locked.env");
    assert_eq!(report["errors"][0]["message"], "permission denied");
    assert_eq!(report["stats"]["files"], 1);
}

#[test]
fn oversized_file_is_skipped_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("big.log"), format!("{}\nK={KEY}\n", "x".repeat(4096))).unwrap();
    let (code, report, _) = scan_json(dir.path(), &["--max-file-size", "1K"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["stats"]["skipped_large"], 1);
    let notice = report["notices"][0]["message"].as_str().unwrap();
    assert!(notice.contains("--max-file-size"), "{notice}");
    // Without the limit the key is found.
    let (code, _, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
}

#[test]
fn empty_and_binary_files_are_fine() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("empty"), "").unwrap();
    fs::write(dir.path().join("blob.bin"), [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(report["stats"]["files"], 1);
    assert_eq!(report["stats"]["skipped_binary"], 1);
}

#[test]
fn arbitrary_bytes_in_many_files_never_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..50 {
        let len = (i * 997) % 20_000;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly printable, some high bytes, no NULs: the files are scanned, not skipped.
                let b = (seed % 200) as u8 + 1;
                if b > 160 {
                    b + 50
                } else {
                    b
                }
            })
            .collect();
        fs::write(dir.path().join(format!("f{i}.txt")), bytes).unwrap();
    }
    let out = pkhound()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["stats"]["files"].as_u64().unwrap() + report["stats"]["skipped"].as_u64().unwrap(),
        50
    );
}
