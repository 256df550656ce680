#!/usr/bin/env python3
"""Recall on random secrets drawn from every rule's own format, in that rule's own example contexts.

usage: benches/rule_mutations.py [--pkhound target/release/pkhound] [-n 20] [--seed 1] [--rule ID]

For each positive example of each rule (rules/*.toml), the example's secret is replaced by N random
values drawn from the rule's `secret` capture group, and every variant is scanned on its own, at the
example's path. A variant counts only when the rule's whole regex still matches it with exactly that
secret (a random value can end in a character that breaks a word boundary); every counted variant must
be found, by this rule or by a rule that supersedes it. Rules whose secret carries a checksum or a
decoded structure (a `check`) are skipped: random values fail those on purpose.

A rule below 100% has a filter (entropy, placeholder marks, a stand-in allow list) that drops real
random values by chance: the output lists its first misses in full (they are random, none is real).
Exit status 1 when anything is missed.
"""
import argparse
import json
import os
import random
import re
import shutil
import sre_constants as C
import sre_parse
import subprocess
import sys
import tempfile
import tomllib

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
PRINTABLE = [chr(c) for c in range(0x21, 0x7F)]
CATS = {
    C.CATEGORY_DIGIT: "0123456789",
    C.CATEGORY_WORD: ALNUM + "_",
    C.CATEGORY_SPACE: " ",
    C.CATEGORY_NOT_SPACE: "".join(PRINTABLE),
    C.CATEGORY_NOT_DIGIT: ALNUM[:52],
    C.CATEGORY_NOT_WORD: "-.:/+=",
}
POSIX = {"[:alnum:]": "a-zA-Z0-9", "[:alpha:]": "a-zA-Z", "[:digit:]": "0-9", "[:xdigit:]": "0-9a-fA-F",
         "[:upper:]": "A-Z", "[:lower:]": "a-z", "[:word:]": "a-zA-Z0-9_", "[:punct:]": "!-/"}
PASSWORD_PUNCT = "!#$%*+-.=_~"
# Checks that validate structure random characters do not have (checksums, decodings).
STRUCTURAL = {"github-crc32", "npm-crc32", "jwt", "bip39", "cephx", "cisco-type7", "crypt-hash",
              "jetbrains-scramble", "basic-auth", "base64-secret", "random-key-bytes"}


class Unsupported(Exception):
    pass


def to_python(rx):
    """Rust regex syntax → Python's, for the constructs the rules use."""
    for k, v in POSIX.items():
        rx = rx.replace(k, v)
    if "\\p" in rx or "\\P" in rx or "(?u" in rx:
        raise Unsupported("unicode class")
    return rx


def class_chars(items, ignorecase):
    chars, neg = set(), False
    for op, av in items:
        if op == C.NEGATE:
            neg = True
        elif op == C.LITERAL:
            chars.add(chr(av))
        elif op == C.RANGE:
            chars.update(chr(c) for c in range(av[0], min(av[1], 0x7E) + 1))
        elif op == C.CATEGORY:
            chars.update(CATS.get(av, ""))
        else:
            raise Unsupported(f"class op {op}")
    if neg:
        chars = {c for c in PRINTABLE if c not in chars}
    if len(chars) > 70:
        # A class as broad as "anything but a quote or a space" is a password or a free-form token: draw
        # the characters people and generators use, not every punctuation mark at once.
        chars &= set(ALNUM + PASSWORD_PUNCT)
    chars = sorted(c for c in chars if 0x20 < ord(c) < 0x7F or c == " ")
    if not chars:
        raise Unsupported("empty class")
    return chars


def gen(items, rnd, ignorecase=False):
    out = []
    for op, av in items:
        if op == C.LITERAL:
            ch = chr(av)
            out.append(ch)
        elif op == C.NOT_LITERAL:
            out.append(rnd.choice([c for c in ALNUM if ord(c) != av]))
        elif op == C.ANY:
            out.append(rnd.choice(ALNUM))
        elif op == C.IN:
            out.append(rnd.choice(class_chars(av, ignorecase)))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av
            if hi == C.MAXREPEAT:
                # An open-ended run (a password, a URL segment) gets a realistic length: at least 8.
                lo, hi = max(lo, 8), max(lo, 8) + 24
            for _ in range(rnd.randint(lo, hi)):
                out.append(gen(sub, rnd, ignorecase))
        elif op == C.SUBPATTERN:
            group, add_flags, del_flags, sub = av
            ic = (ignorecase or bool(add_flags & re.IGNORECASE)) and not (del_flags & re.IGNORECASE)
            out.append(gen(sub, rnd, ic))
        elif op == C.BRANCH:
            out.append(gen(rnd.choice(av[1]), rnd, ignorecase))
        elif op == C.CATEGORY:
            out.append(rnd.choice(CATS.get(av, "a")))
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            pass
        elif op == getattr(C, "ATOMIC_GROUP", None):
            out.append(gen(av, rnd, ignorecase))
        else:
            raise Unsupported(f"op {op}")
    return "".join(out)


def secret_group(parsed):
    """The sub-pattern of the named group `secret` in a parsed regex."""
    sid = parsed.state.groupdict.get("secret")
    if sid is None:
        return None, False

    def walk(items, ic):
        for op, av in items:
            if op == C.SUBPATTERN:
                group, add_flags, del_flags, sub = av
                ic2 = (ic or bool(add_flags & re.IGNORECASE)) and not (del_flags & re.IGNORECASE)
                if group == sid:
                    return sub, ic2
                found = walk(sub, ic2)
                if found:
                    return found
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
                found = walk(av[2], ic)
                if found:
                    return found
            elif op == C.BRANCH:
                for b in av[1]:
                    found = walk(b, ic)
                    if found:
                        return found
        return None

    ic = bool(parsed.state.flags & re.IGNORECASE)
    found = walk(parsed, ic)
    return found if found else (None, False)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--pkhound", default=os.path.join(here, "..", "target", "release", "pkhound"))
    ap.add_argument("--rules", default=os.path.join(here, "..", "rules"))
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rule", help="only this rule id")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    rnd = random.Random(a.seed)

    rules = []
    for name in sorted(os.listdir(a.rules)):
        if name.endswith(".toml"):
            with open(os.path.join(a.rules, name), "rb") as f:
                rules.extend(tomllib.load(f).get("rule", []))
    supersedes = {}
    for r in rules:
        for s in r.get("supersedes", []):
            supersedes.setdefault(s, set()).add(r["id"])

    work = tempfile.mkdtemp(prefix="pkh-mutations-")
    samples = {}  # dir → (rule id, secret, example text)
    skipped = {}
    counted = {}
    for r in rules:
        rid = r["id"]
        if a.rule and rid != a.rule:
            continue
        if r.get("check") in STRUCTURAL or "regex" not in r:
            skipped[rid] = "check " + str(r.get("check")) if r.get("check") else "no regex"
            continue
        try:
            rx = to_python(r["regex"])
            whole = re.compile(rx)
            group, ic = secret_group(sre_parse.parse(rx))
            if group is None:
                raise Unsupported("no secret group")
        except (Unsupported, re.error, Exception) as e:
            skipped[rid] = str(e)[:60]
            continue
        ex = r.get("examples", {})
        for k, p in enumerate(ex.get("positive", [])):
            text, secret = p["text"], p["secret"]
            if p.get("partner") or text.count(secret) != 1:
                continue
            for j in range(a.n):
                try:
                    value = gen(group, rnd, ic)
                except Unsupported as e:
                    skipped[rid] = str(e)
                    break
                mutated = text.replace(secret, value)
                if not any(m.groupdict().get("secret") == value for m in whole.finditer(mutated)):
                    continue
                d = os.path.join(work, rid, f"{k}-{j}")
                os.makedirs(d)
                path = ex.get("path") or "example.txt"
                full = os.path.join(d, path)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "w") as f:
                    f.write(mutated)
                samples[os.path.relpath(full, work)] = (rid, value, mutated)
                counted[rid] = counted.get(rid, 0) + 1

    out = subprocess.run(
        [a.pkhound, "scan", work, "--no-config", "--no-ignore", "--all-occurrences", "--show-secrets",
         "--format", "json", "-q"],
        capture_output=True, text=True,
    ).stdout
    found = set()
    for f in json.loads(out)["findings"]:
        found.add((f["path"], f["rule_id"], f["secret"]))
    missed = {}
    for path, (rid, value, text) in samples.items():
        ok = (path, rid, value) in found or any((path, s, value) in found for s in supersedes.get(rid, ()))
        if not ok:
            missed.setdefault(rid, []).append((value, text))
    total = len(samples)
    nmiss = sum(len(v) for v in missed.values())
    print(f"rules with variants: {len(counted)}, skipped: {len(skipped)}, variants: {total}, "
          f"found: {total - nmiss} ({100.0 * (total - nmiss) / max(total, 1):.2f}%)")
    for rid in sorted(missed, key=lambda r: -len(missed[r])):
        print(f"  {rid}: {len(missed[rid])}/{counted[rid]} missed")
        for value, text in missed[rid][:3]:
            print(f"      {text[:160]!r}")
    if a.keep:
        print("work directory:", work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    if os.environ.get("VERBOSE"):
        for rid, why in sorted(skipped.items()):
            print(f"  skipped {rid}: {why}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
