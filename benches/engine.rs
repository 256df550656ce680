//! Engine throughput (MB/s) on three inputs: text with no keywords (the prefilter's floor), text dense with
//! near misses (`pk_users`, `pk_live_…`), and a source-like mix with a few real hits. Then the whole
//! recipe (engine, locate, decoders) against the engine without decoder patterns, on the source mix and on
//! text dense with escapes and encoded keywords that decode to nothing (decoding's worst case).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pkhound::rules;

const SIZE: usize = 4 << 20;

/// A deterministic xorshift, so every run benches the same bytes.
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
}

fn fill(mut line: impl FnMut(&mut Rng) -> String) -> Vec<u8> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut out = String::with_capacity(SIZE + 256);
    while out.len() < SIZE {
        out.push_str(&line(&mut rng));
        out.push('\n');
    }
    out.into_bytes()
}

fn no_keywords() -> Vec<u8> {
    const WORDS: &[&str] = &[
        "function", "return", "const", "value", "render", "props", "state", "import", "from", "export", "default",
        "items", "map", "filter", "length", "index", "while", "true", "false", "null",
    ];
    fill(|r| (0..10).map(|_| r.pick(WORDS)).collect::<Vec<_>>().join(" "))
}

fn near_misses() -> Vec<u8> {
    fill(|r| match r.next() % 6 {
        0 => "ALTER TABLE users ADD CONSTRAINT pk_users PRIMARY KEY (id);".to_string(),
        1 => format!("stripe.setPublishableKey('pk_live_{}');", r.hex(24)),
        2 => format!("SELECT pk_order_id, pk_{} FROM orders;", r.hex(8)),
        3 => format!("sha = \"{}\"", r.hex(40)),
        4 => "password = os.environ['DB_PASSWORD']".to_string(),
        _ => format!("token: ${{{}}}", "API_TOKEN"),
    })
}

fn source_mix() -> Vec<u8> {
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
    fill(|r| {
        n += 1;
        if n.is_multiple_of(2000) {
            format!("KLAVIYO_PRIVATE_API_KEY=pk_{}", r.hex(34))
        } else {
            r.pick(LINES).to_string()
        }
    })
}

fn escape_dense() -> Vec<u8> {
    fill(|r| match r.next() % 4 {
        0 => format!(
            "{{\"html\":\"\\u003cdiv\\u003e\",\"k\":\"\\u0070k_users_{}\"}}",
            r.hex(6)
        ),
        1 => format!("GET /r?next=%2Fa%3Fk%3D%70k%5Flive_{}&x=1", r.hex(12)),
        2 => format!("<a title=\"&#112;k&#95;orders\">{}</a>", r.hex(8)),
        _ => format!("data: cGtfdXNlcnNfdGFibGVfbmFtZQ== {}", r.hex(10)),
    })
}

/// Decoding's cost: the engine alone, without decoder patterns (what a scan cost before decoders),
/// against the whole recipe with every decoder.
fn recipe(c: &mut Criterion) {
    let rules = rules::builtin().expect("built-in rules load");
    let plain = pkhound::engine::Engine::compile(&rules).expect("built-in rules compile");
    let engine = pkhound::scan::compile(&rules).expect("built-in rules compile");
    let policy = pkhound::triage::Policy::default();
    let scanner = pkhound::scan::Scanner::new(&engine, &policy);
    let mut worker = scanner.worker();
    let mut scratch = plain.scratch();
    let mut group = c.benchmark_group("recipe");
    group.sample_size(10);
    for (name, input) in [("source-mix", source_mix()), ("escape-dense", escape_dense())] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_with_input(BenchmarkId::new("engine-without-decoders", name), &input, |b, input| {
            b.iter(|| plain.scan(input, &mut scratch).len())
        });
        group.bench_with_input(BenchmarkId::new("recipe-with-decoders", name), &input, |b, input| {
            b.iter(|| {
                let mut out = Vec::new();
                scanner.scan(&mut worker, "app.js", &pkhound::finding::Origin::File, input, &mut out);
                out.len()
            })
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    let rules = rules::builtin().expect("built-in rules load");
    let engine = pkhound::scan::compile(&rules).expect("built-in rules compile");
    let mut scratch = engine.scratch();
    let mut group = c.benchmark_group("engine");
    group.sample_size(20);
    for (name, input) in [
        ("no-keywords", no_keywords()),
        ("near-misses", near_misses()),
        ("source-mix", source_mix()),
    ] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &input, |b, input| {
            b.iter(|| engine.scan(input, &mut scratch).len())
        });
    }
    group.finish();
}

criterion_group!(benches, bench, recipe);
criterion_main!(benches);
