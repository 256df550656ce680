//! One scan of a generated input, for instruction counts under callgrind (`benches/decoders.sh`): the
//! engine alone without decoder patterns (`engine`), or the whole recipe with every decoder (`recipe`).
//! Timing on a shared machine is noise; instructions are not.
//!
//!   cargo run --release --example decode_cost -- INPUT MODE
//!
//! INPUT: `source-mix` (code with a key every 2,000 lines), `escape-dense` (escaped and base64 spellings
//! of keywords that decode to nothing: decoding's worst case), `base64-dense` (data URIs, base64 blobs
//! of text and JSON: every line opens the base64 gate), `nested` (base64 `.env`s with percent-encoded
//! keys, percent-encoded base64: every line decodes twice), `none` (start-up only).

use pkhound::{finding::Origin, rules, scan::Scanner, triage::Policy};

const SIZE: usize = 4 << 20;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[(self.next() % 16) as usize]))
            .collect()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    out
}

fn fill(mut line: impl FnMut(&mut Rng) -> String) -> Vec<u8> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut out = String::with_capacity(SIZE + 4096);
    while out.len() < SIZE {
        out.push_str(&line(&mut rng));
        out.push('\n');
    }
    out.into_bytes()
}

fn input(name: &str) -> Option<Vec<u8>> {
    const LINES: &[&str] = &[
        "    let mut buf = Vec::with_capacity(64 * 1024);",
        "import { useState, useEffect } from 'react';",
        "def handler(event, context):",
        "        return {\"statusCode\": 200, \"body\": json.dumps(result)}",
        "  - name: Install dependencies",
        "<div class=\"container\"><span>{{ user.name }}</span></div>",
        "SELECT id, email FROM users WHERE created_at > NOW() - INTERVAL '1 day';",
        "// Copyright 2024 The Authors. Licensed under the Apache License, Version 2.0.",
    ];
    let mut n = 0u64;
    Some(match name {
        "source-mix" => fill(|r| {
            n += 1;
            if n.is_multiple_of(2000) {
                format!("KLAVIYO_PRIVATE_API_KEY=pk_{}", r.hex(34))
            } else {
                r.pick(LINES).to_string()
            }
        }),
        "escape-dense" => fill(|r| match r.next() % 4 {
            0 => format!(
                "{{\"html\":\"\\u003cdiv\\u003e\",\"k\":\"\\u0070k_users_{}\"}}",
                r.hex(6)
            ),
            1 => format!("GET /r?next=%2Fa%3Fk%3D%70k%5Flive_{}&x=1", r.hex(12)),
            2 => format!("<a title=\"&#112;k&#95;orders\">{}</a>", r.hex(8)),
            _ => format!("data: cGtfdXNlcnNfdGFibGVfbmFtZQ== {}", r.hex(10)),
        }),
        "base64-dense" => fill(|r| match r.next() % 3 {
            0 => format!("background: url(data:image/png;base64,{});", b64(&r.bytes(600))),
            1 => format!(
                "  config.json: {}",
                b64(format!("{{\"user\":\"u{}\",\"url\":\"https://x.io/a%2Fb?q=%70%6F\"}}", r.hex(8)).as_bytes())
            ),
            _ => format!(
                "  app.env: {}",
                b64(format!("A=1\nURL=https://x.io/?k=%70k_users_{}\n", r.hex(6)).as_bytes())
            ),
        }),
        "nested" => fill(|r| {
            let key: String = format!("pk_{}", r.hex(34))
                .chars()
                .map(|c| format!("%{:02x}", c as u32))
                .collect();
            let env = b64(format!("A=??>\nKLAVIYO_URL=https://x.io/?k={key}\nB=??~\n").as_bytes());
            match r.next() % 2 {
                0 => format!("  app.env: {env}"),
                _ => format!("GET /cb?state={}&ok=1", env.replace('+', "%2B").replace('/', "%2F")),
            }
        }),
        // Start-up alone (rule loading, compilation), to subtract from the others.
        "none" => Vec::new(),
        _ => return None,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(name), Some(mode)) = (args.first(), args.get(1)) else {
        eprintln!("usage: decode_cost source-mix|escape-dense|base64-dense|nested engine|recipe");
        std::process::exit(2);
    };
    let Some(bytes) = input(name) else {
        eprintln!("unknown input {name}");
        std::process::exit(2);
    };
    let rules = rules::builtin().expect("built-in rules load");
    let found = match mode.as_str() {
        "engine" => {
            let plain = pkhound::engine::Engine::compile(&rules).expect("built-in rules compile");
            let mut scratch = plain.scratch();
            plain.scan(&bytes, &mut scratch).len()
        }
        "recipe" => {
            let engine = pkhound::scan::compile(&rules).expect("built-in rules compile");
            let policy = Policy::default();
            let scanner = Scanner::new(&engine, &policy);
            let mut worker = scanner.worker();
            let mut out = Vec::new();
            scanner.scan(&mut worker, "app.js", &Origin::File, &bytes, &mut out);
            out.len()
        }
        _ => {
            eprintln!("unknown mode {mode}");
            std::process::exit(2);
        }
    };
    println!("{name} {mode}: {} bytes, {found} matches", bytes.len());
}
