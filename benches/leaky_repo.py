#!/usr/bin/env python3
"""Recall on Plazmaz/leaky-repo, a public benchmark of secrets in the files real projects leak them in.

Its `.leaky-meta/secrets.csv` counts, per file, the lines that carry a risk (a credential). This scans a
copy of the tree (without `.git`, `.leaky-meta` and the README) with pkhound and with each peer it finds,
counts each tool's distinct finding lines per file (capped at the file's risk count) and prints the table.

    python3 benches/leaky_repo.py LEAKY_REPO_CHECKOUT [--pkhound target/release/pkhound] [--peers DIR]

LEAKY_REPO_CHECKOUT: a clone of https://github.com/Plazmaz/leaky-repo. --peers: a directory holding any of
`gitleaks`, `betterleaks`, `kingfisher` (default ~/.cache/pkhound-peers/bin). Nothing of the benchmark is
kept in this repository.
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import tempfile


def risk_counts(checkout):
    risk = {}
    for line in open(os.path.join(checkout, '.leaky-meta', 'secrets.csv')):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        name, r, _ = line.split(',')
        risk[name] = int(r)
    return risk


def rel(path, tree):
    path = path.replace('\\', '/')
    marker = os.path.basename(tree) + '/'
    return path[path.index(marker) + len(marker):] if marker in path else path


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def pkhound(binary, tree, out):
    p = run([binary, 'scan', tree, '--no-config', '--no-ignore', '--all-occurrences', '--format', 'json', '-q'])
    lines = collections.defaultdict(set)
    for f in json.loads(p.stdout)['findings']:
        lines[rel(f['path'], tree)].add(f['line'])
    return lines


def gitleaks_like(binary, tree, out, betterleaks):
    report = os.path.join(out, os.path.basename(binary) + '.json')
    if betterleaks:
        run([binary, 'fs', tree, '-o', report, '--exit-code', '0', '--no-banner'])
    else:
        p = run([binary, 'dir', tree, '-f', 'json', '-r', report, '--exit-code', '0', '--no-banner'])
        if p.returncode != 0:
            run([binary, 'detect', '--no-git', '-s', tree, '-f', 'json', '-r', report, '--exit-code', '0'])
    data = json.load(open(report))
    lines = collections.defaultdict(set)
    for f in data['findings'] if isinstance(data, dict) else data:
        if 'location' in f:
            lines[rel(f['location']['path'], tree)].add(f['location']['start_line'])
        else:
            lines[rel(f['File'], tree)].add(f['StartLine'])
    return lines


def kingfisher(binary, tree, out):
    p = run([binary, 'scan', tree, '--format', 'json', '--no-validate', '--git-history', 'none'])
    lines = collections.defaultdict(set)
    first = p.stdout.splitlines()[0] if p.stdout else '{"findings": []}'
    for f in json.loads(first).get('findings', []):
        lines[rel(f['finding']['path'], tree)].add(f['finding']['line'])
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('checkout')
    ap.add_argument('--pkhound', default=os.path.join(os.path.dirname(__file__), '..', 'target', 'release', 'pkhound'))
    ap.add_argument('--peers', default=os.path.expanduser('~/.cache/pkhound-peers/bin'))
    a = ap.parse_args()
    risk = risk_counts(a.checkout)
    work = tempfile.mkdtemp(prefix='pkh-leaky-')
    tree = os.path.join(work, 'tree')
    shutil.copytree(a.checkout, tree, ignore=shutil.ignore_patterns('.git', '.leaky-meta'))
    os.remove(os.path.join(tree, 'README.md'))
    tools = {'pkhound': pkhound(a.pkhound, tree, work)}
    for name in ('gitleaks', 'betterleaks', 'kingfisher'):
        binary = os.path.join(a.peers, name)
        if os.access(binary, os.X_OK):
            tools[name] = kingfisher(binary, tree, work) if name == 'kingfisher' else \
                gitleaks_like(binary, tree, work, name == 'betterleaks')
    shutil.rmtree(work)
    names = list(tools)
    print('%-40s %4s ' % ('file', 'risk') + ' '.join('%11s' % n for n in names))
    total = collections.Counter()
    for path, r in sorted(risk.items()):
        row = []
        for n in names:
            got = len(tools[n].get(path, ()))
            total[n] += min(got, r)
            row.append('%11d' % got)
        print('%-40s %4d ' % (path, r) + ' '.join(row))
    all_risk = sum(risk.values())
    print('%-40s %4d ' % ('risk lines found (capped per file)', all_risk)
          + ' '.join('%11d' % total[n] for n in names))
    for n in names[1:]:
        if total[n]:
            print(f'pkhound/{n}: {total["pkhound"] / total[n]:.2f}x')


if __name__ == '__main__':
    main()
