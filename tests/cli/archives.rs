//! Archives: members scanned by the same pipeline and reported as `outer.zip!inner/path` in every format,
//! in the working tree, standard input and history; zip bombs, deep nesting, corrupt and encrypted
//! archives stopped with an error. Every archive is built here, at test time.

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

const KEY: &str = "pk_f552cc5023d8319aea1181f76f3adcbdc1"; // pkhound:allow
const KEY2: &str = "pk_Ov8GZ4_f575dcad6ba2b0aee0ca923732881584d8"; // pkhound:allow
const KEY3: &str = "pk_b3216fdaeeb975729fae923d5a4fd12aab"; // pkhound:allow

pub(crate) fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub(crate) fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn tree_with_bytes(files: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    dir
}

/// (path, secret, exposure) of every finding, with `--show-secrets`.
fn found(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap_or("").to_string(),
                f["exposure"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// (kind, path) of every error.
fn errors(report: &Value) -> Vec<(String, String, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["path"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A zip inside a tar.gz, a tar.gz inside a zip, a `.jar`, a `.whl` and a `.gz`: each key at its member path.
fn nested_tree() -> tempfile::TempDir {
    let inner = zip_of(&[
        ("config/.env", format!("KLAVIYO_KEY={KEY}\n").as_bytes()),
        ("public/main.js", format!("const k=\"{KEY2}\";\n").as_bytes()),
    ]);
    let tgz = gzip(&tar_of(&[("lib/inner.zip", &inner), ("README", b"nothing\n")]));
    let jar = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("com/x/Config.properties", format!("klaviyo.key={KEY3}\n").as_bytes()),
    ]);
    let outer = zip_of(&[(
        "deploy/site.tar.gz",
        &gzip(&tar_of(&[("app/settings.py", format!("KEY = '{KEY}'\n").as_bytes())])),
    )]);
    tree_with_bytes(&[
        ("dist/bundle.tar.gz", tgz),
        ("libs/app.jar", jar),
        ("release.zip", outer),
        (
            "db/dump.sql.gz",
            gzip(format!("INSERT INTO k VALUES ('{KEY3}');\n").as_bytes()),
        ),
    ])
}

#[test]
fn keys_in_nested_archives_are_reported_at_their_member_paths() {
    let dir = nested_tree();
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1, "{report}");
    let mut got = found(&report);
    got.sort();
    let row = |p: &str, k: &str, e: &str| (p.to_string(), k.to_string(), e.to_string());
    assert_eq!(
        got,
        vec![
            row("db/dump.sql.gz!dump.sql", KEY3, "server"),
            row("dist/bundle.tar.gz!lib/inner.zip!config/.env", KEY, "server"),
            // Exposure comes from the member path: `public/main.js` ships to browsers.
            row("dist/bundle.tar.gz!lib/inner.zip!public/main.js", KEY2, "client-side"),
            row("libs/app.jar!com/x/Config.properties", KEY3, "server"),
            row("release.zip!deploy/site.tar.gz!app/settings.py", KEY, "server"),
        ]
    );
    assert!(errors(&report).is_empty(), "{report}");
}

#[test]
fn member_paths_reach_every_format() {
    let dir = nested_tree();
    let member = "dist/bundle.tar.gz!lib/inner.zip!config/.env";
    for format in ["text", "json", "sarif", "csv", "junit", "gitlab", "jsonl"] {
        let out = pkhound()
            .args(["scan", "--no-progress", "--format", format])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(member), "{format} does not name {member}:\n{text}");
        assert!(!text.contains(&KEY[8..]), "{format} leaks the key");
    }
    // SARIF: the member is part of the artifact URI, relative to the scan root.
    let out = pkhound()
        .args(["scan", "--no-progress", "--format", "sarif"])
        .arg(dir.path())
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"libs/app.jar!com/x/Config.properties"), "{uris:?}");
}

/// Member names are archive content: `../`, absolute paths and control characters are labels, escaped in
/// every human format, never a path that is opened or a terminal sequence that runs.
#[test]
fn hostile_member_names_are_only_labels() {
    let jar = zip_of(&[
        ("../../etc/evil\x1b[31m.txt", format!("k={KEY}\n").as_bytes()),
        ("/abs/x.env", format!("k={KEY3}\n").as_bytes()),
    ]);
    let dir = tree_with_bytes(&[("a.jar", jar)]);
    let out = pkhound()
        .args(["scan", "--no-progress"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\x1b'), "a raw escape reached the terminal: {text}");
    assert!(text.contains("a.jar!../../etc/evil\\x1b[31m.txt"), "{text}");
    assert!(text.contains("a.jar!/abs/x.env"), "{text}");
    let (_, report, _) = scan_json(dir.path(), &[]);
    let mut paths: Vec<String> = found(&report).into_iter().map(|f| f.0).collect();
    paths.sort();
    assert_eq!(paths, ["a.jar!../../etc/evil\x1b[31m.txt", "a.jar!/abs/x.env"]);
    let out = pkhound()
        .args(["scan", "--no-progress", "--format", "sarif"])
        .arg(dir.path())
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut uris: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    uris.sort();
    // Dot segments are encoded: no URI resolver can turn the member into `etc/evil…` of the repository.
    assert_eq!(uris, ["a.jar!%2E%2E/%2E%2E/etc/evil%1B%5B31m.txt", "a.jar!/abs/x.env"]);
    for f in ["csv", "junit"] {
        let out = pkhound()
            .args(["scan", "--no-progress", "--format", f])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(!out.stdout.contains(&0x1b), "{f} carries a raw escape");
    }
}

/// A raw deflate stream of `prefix` then `zeros` zero bytes, built from one steady-state block repeated:
/// 10 GiB of zeros cost about 10 MB and no compression time.
fn deflate_of_zeros(prefix: &[u8], zeros: u64) -> Vec<u8> {
    const CHUNK: usize = 1 << 20;
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let mut out = Vec::with_capacity(16 << 20);
    let run = |input: &[u8], c: &mut flate2::Compress| -> Vec<u8> {
        let mut buf = Vec::with_capacity(input.len() + 1024);
        let before = c.total_in();
        c.compress_vec(input, &mut buf, flate2::FlushCompress::Sync).unwrap();
        assert_eq!((c.total_in() - before) as usize, input.len());
        buf
    };
    let block = vec![0u8; CHUNK];
    let mut first = prefix.to_vec();
    first.extend_from_slice(&block);
    out.extend(run(&first, &mut c));
    let b1 = run(&block, &mut c);
    let b2 = run(&block, &mut c);
    assert_eq!(b1, b2, "the compressor reached a steady state on zeros");
    let n = zeros / CHUNK as u64;
    assert_eq!(zeros % CHUNK as u64, 0);
    for _ in 1..n {
        out.extend_from_slice(&b1);
    }
    // A final, empty fixed-Huffman block ends the stream (sync flush left it byte-aligned).
    out.extend_from_slice(&[0x03, 0x00]);
    out
}

/// A gzip file holding `prefix` then `zeros` zero bytes, with a true trailer.
pub(crate) fn gzip_of_zeros(prefix: &[u8], zeros: u64) -> Vec<u8> {
    let mut crc = crc32fast::Hasher::new();
    crc.update(prefix);
    let mut zero_crc = crc32fast::Hasher::new();
    zero_crc.update(&[0u8; 1 << 20]);
    let mut done = 1u64 << 20;
    let mut tail = crc32fast::Hasher::new();
    while done <= zeros {
        if zeros & done != 0 {
            tail.combine(&zero_crc);
        }
        let copy = zero_crc.clone();
        zero_crc.combine(&copy);
        done <<= 1;
    }
    crc.combine(&tail);
    let mut gz = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff];
    gz.extend(deflate_of_zeros(prefix, zeros));
    gz.extend_from_slice(&crc.finalize().to_le_bytes());
    gz.extend_from_slice(&((prefix.len() as u64 + zeros) as u32).to_le_bytes());
    gz
}

#[test]
fn a_ten_gigabyte_bomb_and_a_deeply_nested_archive_are_stopped_with_errors() {
    // A tar.gz whose one member is 10 GiB of zeros, inside a zip: about 10 MB on disk.
    let mut header = tar::Header::new_gnu();
    header.set_path("zeros.bin").unwrap();
    header.set_size(10 << 30);
    header.set_mode(0o644);
    header.set_cksum();
    let bomb = gzip_of_zeros(header.as_bytes(), 10 << 30);
    assert!(bomb.len() < 12 << 20, "{} bytes", bomb.len());
    // The gzip is valid: its first megabytes decode to the tar header and zeros.
    let mut head = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(flate2::read::GzDecoder::new(&bomb[..]), 4 << 20),
        &mut head,
    )
    .unwrap();
    assert_eq!(&head[..9], b"zeros.bin");
    let bomb_zip = {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        w.start_file("payload/zeros.tar.gz", stored).unwrap();
        w.write_all(&bomb).unwrap();
        w.start_file("payload/after.env", stored).unwrap();
        w.write_all(format!("K={KEY2}\n").as_bytes()).unwrap();
        w.finish().unwrap().into_inner()
    };
    // Eight archives deep, a key at the bottom; a key three deep is within the limit.
    let mut deep = zip_of(&[("bottom.env", format!("K={KEY}\n").as_bytes())]);
    for i in 0..8 {
        deep = zip_of(&[(&format!("level{i}.zip"), &deep[..])]);
    }
    let shallow = zip_of(&[(
        "a.zip",
        &zip_of(&[("b.zip", &zip_of(&[("c.env", format!("K={KEY3}\n").as_bytes())])[..])])[..],
    )]);
    let dir = tree_with_bytes(&[("bomb.zip", bomb_zip), ("deep.zip", deep), ("shallow.zip", shallow)]);

    let started = Instant::now();
    let (code, report, stderr) = scan_json(dir.path(), &["--show-secrets"]);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the bomb was not stopped early"
    );
    // Findings decide the exit code; the holes are in `errors` and on stderr.
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("INCOMPLETE"), "{stderr}");
    let mut got = found(&report);
    got.sort();
    assert_eq!(
        got.iter().map(|f| (f.0.as_str(), f.1.as_str())).collect::<Vec<_>>(),
        vec![
            ("bomb.zip!payload/after.env", KEY2),
            ("shallow.zip!a.zip!b.zip!c.env", KEY3),
        ]
    );
    let errs = errors(&report);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(
        (errs[0].0.as_str(), errs[0].1.as_str()),
        ("limit", "bomb.zip!payload/zeros.tar.gz")
    );
    assert!(errs[0].2.contains("compression ratio"), "{}", errs[0].2);
    assert_eq!(
        (errs[1].0.as_str(), errs[1].1.as_str()),
        ("limit", "deep.zip!level7.zip!level6.zip!level5.zip!level4.zip")
    );
    assert!(errs[1].2.contains("nested more than 4 deep"), "{}", errs[1].2);
    // The depth limit is a flag.
    let (_, report, _) = scan_json(dir.path(), &["--show-secrets", "--max-archive-depth", "9"]);
    assert!(found(&report)
        .iter()
        .any(|f| f.1 == KEY && f.0.ends_with("level0.zip!bottom.env")));
}

#[test]
fn corrupt_and_encrypted_archives_are_errors_and_the_scan_goes_on() {
    let mut truncated = zip_of(&[("a.env", format!("K={KEY}\n").as_bytes())]);
    truncated.truncate(truncated.len() / 2);
    // An encrypted member: the general-purpose flag's bit 0, in the local header and the directory.
    let mut encrypted = zip_of(&[
        ("secret.env", format!("K={KEY}\n").as_bytes()),
        ("plain.env", format!("K={KEY2}\n").as_bytes()),
    ]);
    let mut flagged = 0;
    for i in 0..encrypted.len().saturating_sub(8) {
        let local = &encrypted[i..i + 4] == b"PK\x03\x04" && encrypted[i + 30..].starts_with(b"secret.env");
        let central = &encrypted[i..i + 4] == b"PK\x01\x02" && encrypted[i + 46..].starts_with(b"secret.env");
        if local {
            encrypted[i + 6] |= 1;
            flagged += 1;
        }
        if central {
            encrypted[i + 8] |= 1;
            flagged += 1;
        }
    }
    assert_eq!(flagged, 2);
    let mut bad_gz = gzip(format!("K={KEY}\n").as_bytes());
    let n = bad_gz.len();
    bad_gz[n / 2..].fill(0xAA);
    let dir = tree_with_bytes(&[
        ("broken.zip", truncated),
        ("locked.zip", encrypted),
        ("bad.tar.gz", bad_gz),
        ("fine.env", format!("K={KEY3}\n").into_bytes()),
    ]);
    let (code, report, stderr) = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("INCOMPLETE"), "{stderr}");
    let mut got = found(&report);
    got.sort();
    assert_eq!(
        got.iter().map(|f| (f.0.as_str(), f.1.as_str())).collect::<Vec<_>>(),
        vec![("fine.env", KEY3), ("locked.zip!plain.env", KEY2)]
    );
    let errs = errors(&report);
    let kinds: Vec<(&str, &str)> = errs.iter().map(|e| (e.0.as_str(), e.1.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            ("archive", "bad.tar.gz"),
            ("archive", "broken.zip"),
            ("archive", "locked.zip!secret.env"),
        ],
        "{errs:?}"
    );
    assert!(errs[2].2.contains("encrypted"), "{}", errs[2].2);
    assert!(stderr.contains("locked.zip!secret.env"), "{stderr}");
    // With nothing found, the holes make the exit code 2.
    std::fs::remove_file(dir.path().join("fine.env")).unwrap();
    std::fs::remove_file(dir.path().join("locked.zip")).unwrap();
    let (code, report, _) = scan_json(dir.path(), &[]);
    assert_eq!((code, errors(&report).len()), (2, 2));
}

#[test]
fn no_archives_passes_them_over_and_stdin_opens_them() {
    let dir = nested_tree();
    let (code, report, _) = scan_json(dir.path(), &["--no-archives"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["stats"]["skipped_binary"], 4);

    let jar = zip_of(&[("com/x/Config.properties", format!("klaviyo.key={KEY3}\n").as_bytes())]);
    let out = pkhound()
        .args(["scan", "-", "--format", "json", "--show-secrets"])
        .write_stdin(jar)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found(&report)[0].0, "-!com/x/Config.properties");
}

/// A member larger than --max-file-size is streamed through the scanner's windows, not held whole.
#[test]
fn a_large_member_is_streamed_and_its_key_found() {
    let mut big = "let x = 1;\n".repeat(300_000).into_bytes();
    big.extend_from_slice(format!("const k = \"{KEY}\";\n").as_bytes());
    let dir = tree_with_bytes(&[("big.zip", zip_of(&[("src/big.js", &big)]))]);
    let (code, report, _) = scan_json(dir.path(), &["--show-secrets", "--max-file-size", "1M"]);
    assert_eq!(code, 1, "{report}");
    let f = &report["findings"][0];
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("big.zip!src/big.js"), Some(300_001))
    );
}

#[test]
fn an_archive_committed_in_history_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let tgz = gzip(&tar_of(&[("conf/.env", format!("KLAVIYO_KEY={KEY}\n").as_bytes())]));
    std::fs::create_dir_all(dir.path().join("vendor")).unwrap();
    std::fs::write(dir.path().join("vendor/site.tar.gz"), &tgz).unwrap();
    std::fs::write(
        dir.path().join("vendor/lib.jar"),
        zip_of(&[("a.properties", format!("k={KEY3}\n").as_bytes())]),
    )
    .unwrap();
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "vendor"]);
    git(dir.path(), &["rm", "-q", "vendor/site.tar.gz"]);
    git(dir.path(), &["commit", "-q", "-m", "drop"]);
    let (code, report, stderr) = scan_json(dir.path(), &["--history", "--show-secrets"]);
    assert_eq!(code, 1, "{stderr}");
    let mut got: Vec<(String, String, bool)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
                f["in_head"] == true,
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("vendor/lib.jar!a.properties".to_string(), KEY3.to_string(), true),
            ("vendor/site.tar.gz!conf/.env".to_string(), KEY.to_string(), false),
        ]
    );
}
