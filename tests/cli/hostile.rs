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

/// See: issue 12 — files over `--max-file-size` were skipped with a notice and exit 0; now the limit bounds
/// memory, not coverage: they are streamed in windows.
#[test]
fn oversized_files_are_streamed_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!("{}\nK={KEY}\n{}", "x".repeat(3 << 20), "y = 1\n".repeat(200_000));
    fs::write(dir.path().join("big.log"), &big).unwrap();
    for limit in ["1K", "0", "100M"] {
        let (code, report, _) = scan_json(dir.path(), &["--max-file-size", limit]);
        assert_eq!(code, 1, "--max-file-size {limit}: {report}");
        assert_eq!(report["findings"][0]["line"], 2, "{limit}");
        assert_eq!(report["findings"][0]["column"], 3, "{limit}");
        assert_eq!(report["stats"]["skipped"], 0, "{limit}");
    }
}

/// See: issue 12 — `scan /dev/stdin` and `scan <(cat .env)` were skipped as special files with exit 0.
#[test]
fn a_pipe_named_on_the_command_line_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = pkhound()
        .args(["scan", "/dev/stdin", "--format", "json"])
        .write_stdin(format!("K={KEY}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));

    let fifo = dir.path().join("fifo");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::write(fifo, format!("A=1\nK={KEY}\n")).unwrap())
    };
    let out = pkhound()
        .arg("scan")
        .arg(&fifo)
        .args(["--format", "json"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["line"], 2);

    // A FIFO met while walking a directory is still never opened.
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["stats"]["skipped_other"], 1);
}

/// Standard input is streamed: a large input is scanned whole, in windows, with lines counted across them.
#[test]
fn large_stdin_is_streamed() {
    let input = format!("{}K={KEY}\n", "filler line\n".repeat(400_000));
    let out = pkhound()
        .args(["scan", "-", "--format", "json", "--max-file-size", "1M"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["line"], 400_001);
    assert_eq!(report["errors"].as_array().unwrap().len(), 0);
}

#[test]
fn empty_and_binary_files_are_fine() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("empty"), "").unwrap();
    fs::write(dir.path().join("blob.bin"), [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    fs::write(dir.path().join("pixel.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
    // A binary file is scanned as bytes; an image is skipped.
    assert_eq!(report["stats"]["files"], 2);
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
