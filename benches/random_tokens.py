#!/usr/bin/env python3
"""Recall on random well-formed tokens: every one must be found.

usage: benches/random_tokens.py [--pkhound target/release/pkhound] [-n 50000] [--seed 1]

Writes N random tokens of each format below, one per line in an ordinary assignment or in one of several
code contexts, scans each file with `--no-config --all-occurrences` and prints, per format, how many lines
were found and the first misses (redacted to their first 12 characters). A filter that drops a real token
by chance (a template mark spelled by random characters, a "fake" pattern in random hex) shows up here long
before a property test's 2,000 cases or a rule's examples catch it. Exit status 1 when anything is missed.
The tokens are random: none is real.
"""
import argparse
import json
import os
import random
import string
import subprocess
import sys
import tempfile
import zlib

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

CONTEXTS = [
    "KEY={}",
    'const k = "{}";',
    '{{"api_key": "{}"}}',
    "  token: '{}'",
    "Authorization: Bearer {}",
    '<add key="Token" value="{}" />',
    'var a={{k:"{}"}},b=2;',
]


def formats(rng):
    def an(n, alphabet=ALNUM):
        return "".join(rng.choice(alphabet) for _ in range(n))

    def github(prefix):
        body = an(30)
        n, check = zlib.crc32(body.encode()), ""
        for _ in range(6):
            check = B62[n % 62] + check
            n //= 62
        return prefix + body + check

    return {
        "klaviyo": lambda: "pk_" + an(34, HEX),
        "klaviyo-company": lambda: "pk_" + an(6) + "_" + an(34, HEX),
        "github": lambda: github("ghp_"),
        "stripe": lambda: "sk_live_" + an(rng.choice([24, 99])),
        "slack": lambda: "xoxb-%s-%s-%s" % (an(12, string.digits), an(13, string.digits), an(24)),
        "openai": lambda: "sk-proj-" + an(74, ALNUM + "_-") + "T3BlbkFJ" + an(74, ALNUM + "_-"),
        "anthropic": lambda: "sk-ant-api03-" + an(93, ALNUM + "_-") + "AA",
        "sendgrid": lambda: "SG." + an(22, ALNUM + "_-") + "." + an(43, ALNUM + "_-"),
    }


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--pkhound", default=os.path.join(here, "..", "target", "release", "pkhound"))
    ap.add_argument("-n", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="pkh-random-")
    missed_any = False
    print("%-16s %9s %9s" % ("format", "found", "tokens"))
    for name, gen in formats(rng).items():
        path = os.path.join(work, name + ".txt")
        with open(path, "w") as f:
            for _ in range(a.n):
                f.write(rng.choice(CONTEXTS).format(gen()) + "\n")
        out = subprocess.run(
            [a.pkhound, "scan", path, "--no-config", "--all-occurrences", "--format", "json"],
            capture_output=True, text=True,
        ).stdout
        lines = {f["line"] for f in json.loads(out)["findings"]}
        missed = [i for i in range(1, a.n + 1) if i not in lines]
        missed_any |= bool(missed)
        print("%-16s %9d %9d" % (name, a.n - len(missed), a.n))
        text = open(path).read().split("\n")
        for i in missed[:3]:
            print("    missed line %d: %s…" % (i, text[i - 1][:12]))
    sys.exit(1 if missed_any else 0)


if __name__ == "__main__":
    main()
