#!/usr/bin/env python3
"""Extract peers' own positive / negative examples into examples.jsonl.

Sources (bare git mirrors made by `fetch`):
  gitleaks, betterleaks : cmd/generate/config/rules/*.go   (static tps / fps; generated values skipped)
  kingfisher            : data/rules/*.yml                  (examples / negative_examples)
  noseyparker           : crates/noseyparker/data/default/builtin/rules/*.yml (the same shape)
  trufflehog            : pkg/detectors/**/*_test.go        (Pattern tests: input + want; want empty => negative)
  secretlint            : packages/@secretlint/secretlint-rule-*/test/snapshots/{ng,ok}.*/input*
                          (an `ng.` case must be reported, an `ok.` case not; option tests and rules that are
                          not about secrets — dotenv files, home paths, comment filters — are skipped)
Each record: source, file, rule, provider(peer name), kind(pos|neg), text, secrets(list, may be empty).
"""
import json, os, re, subprocess, sys
import yaml
sys.path.insert(0, os.path.dirname(__file__))
from goparse import tokenize, match_close, split_top, eval_expr, string_env, Unresolved

M = os.environ.get('PEER_MIRRORS', '/work/.mirror')
REPOS = {
    'gitleaks': f'{M}/gitleaks+gitleaks/repo',
    'betterleaks': f'{M}/betterleaks+betterleaks/repo',
    'kingfisher': f'{M}/mongodb+kingfisher/repo',
    'trufflehog': f'{M}/trufflesecurity+trufflehog/repo',
    'noseyparker': f'{M}/praetorian-inc+noseyparker/repo',
    'secretlint': f'{M}/secretlint+secretlint/repo',
}
# secretlint rules that judge something other than a secret's value.
SECRETLINT_SKIP = ('preset-', 'no-dotenv', 'no-homedir', 'filter-comments', 'pattern', 'example', 'no-k8s-kind-secret')


def git(repo, *args):
    return subprocess.run(['git', '-C', repo, *args], capture_output=True, check=True).stdout.decode('utf-8', 'replace')


def ls(repo, path):
    return [p for p in git(repo, 'ls-tree', '-r', '--name-only', 'HEAD', path).splitlines()]


def show(repo, path):
    return git(repo, 'show', f'HEAD:{path}')


def leaks_style(name, out):
    repo = REPOS[name]
    stats = {'static': 0, 'skipped': 0}
    for path in ls(repo, 'cmd/generate/config/rules'):
        if not path.endswith('.go') or path.endswith('_test.go'):
            continue
        src = show(repo, path)
        toks = tokenize(src)
        fenv = string_env(toks)
        # split into functions
        starts = [i for i, t in enumerate(toks) if t == ('ident', 'func')]
        starts.append(len(toks))
        for a, b in zip(starts, starts[1:]):
            ft = toks[a:b]
            fname = ft[1][1] if len(ft) > 1 else '?'
            rid = None
            for i in range(len(ft) - 2):
                if ft[i][1] == 'RuleID' and ft[i + 1][1] == ':' and ft[i + 2][0] in ('str', 'raw'):
                    rid = ft[i + 2][1].strip('"`')
            env = dict(fenv)
            env.update(string_env(ft))
            # which names are passed to Validate
            names = {}
            for i in range(len(ft) - 1):
                if ft[i][0] == 'ident' and ft[i][1].startswith('utils.Validate') and ft[i + 1][1] == '(':
                    j = match_close(ft, i + 1)
                    args = split_top(ft[i + 2:j])
                    if ft[i][1] == 'utils.Validate' and len(args) >= 3:
                        for arg, kind in ((args[1], 'pos'), (args[2], 'neg')):
                            if len(arg) == 1 and arg[0][0] == 'ident':
                                names[arg[0][1]] = kind
            for i in range(len(ft) - 2):
                if ft[i][0] == 'ident' and ft[i][1] in names and ft[i + 1][1] in (':=', '='):
                    kind = names[ft[i][1]]
                    k = i + 2
                    elems = []
                    if ft[k][1] == '[' and ft[k + 1][1] == ']':
                        # []string{...}
                        while k < len(ft) and ft[k][1] != '{':
                            k += 1
                        j = match_close(ft, k)
                        elems = split_top(ft[k + 1:j])
                    elif ft[k][1] == 'append' and ft[k + 1][1] == '(':
                        j = match_close(ft, k + 1)
                        args = split_top(ft[k + 2:j])
                        elems = args[1:]
                    else:
                        continue
                    for e in elems:
                        if not e:
                            continue
                        if e[-1][1] == '...':
                            # spread of another slice: []string{...}... handled if literal
                            e2 = e[:-1]
                            if e2 and e2[0][1] == '[':
                                kk = 0
                                while kk < len(e2) and e2[kk][1] != '{':
                                    kk += 1
                                jj = match_close(e2, kk)
                                for ee in split_top(e2[kk + 1:jj]):
                                    try:
                                        v = eval_expr(ee, env)
                                        out.append(dict(source=name, file=path, rule=rid or fname, kind=kind, text=v, secrets=[]))
                                        stats['static'] += 1
                                    except Unresolved:
                                        stats['skipped'] += 1
                            else:
                                stats['skipped'] += 1
                            continue
                        try:
                            v = eval_expr(e, env)
                        except Unresolved:
                            stats['skipped'] += 1
                            continue
                        out.append(dict(source=name, file=path, rule=rid or fname, kind=kind, text=v, secrets=[]))
                        stats['static'] += 1
    print(name, stats, file=sys.stderr)


def kingfisher(out, name='kingfisher', rules_dir='data/rules'):
    repo = REPOS[name]
    if not os.path.isdir(repo):
        print(name, 'mirror missing, skipped', file=sys.stderr)
        return
    n = 0
    for path in ls(repo, rules_dir):
        if not path.endswith(('.yml', '.yaml')):
            continue
        try:
            doc = yaml.safe_load(show(repo, path))
        except Exception as e:
            print('yaml fail', path, e, file=sys.stderr)
            continue
        for r in (doc or {}).get('rules', []) or []:
            for kind, key in (('pos', 'examples'), ('neg', 'negative_examples')):
                for ex in r.get(key) or []:
                    if not isinstance(ex, str):
                        continue
                    out.append(dict(source=name, file=path, rule=r.get('id'), kind=kind, text=ex, secrets=[]))
                    n += 1
    print(name, n, file=sys.stderr)


def secretlint(out):
    repo = REPOS['secretlint']
    if not os.path.isdir(repo):
        print('secretlint mirror missing, skipped', file=sys.stderr)
        return
    n = 0
    snap = re.compile(r'packages/@secretlint/secretlint-rule-([a-z0-9-]+)/test/snapshots/([^/]+)/input[^/]*$')
    for path in ls(repo, 'packages/@secretlint'):
        m = snap.match(path)
        if not m or m.group(1).startswith(SECRETLINT_SKIP):
            continue
        rule, case = m.groups()
        # Cases that test an option (`--enableIDScanRule-false`, `allows`) say nothing of the default rule.
        if '--' in case or 'allow' in case or not case.startswith(('ng.', 'ok.')):
            continue
        raw = subprocess.run(['git', '-C', repo, 'show', f'HEAD:{path}'], capture_output=True, check=True).stdout
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError:
            continue  # binary key stores: the text harness cannot carry them
        kind = 'pos' if case.startswith('ng.') else 'neg'
        out.append(dict(source='secretlint', file=f'secretlint/{rule}.snapshot', rule=f'{rule}:{case}', kind=kind,
                        text=text, secrets=[]))
        n += 1
    print('secretlint', n, file=sys.stderr)


def trufflehog(out):
    repo = REPOS['trufflehog']
    stats = {'ok': 0, 'skipped': 0}
    for path in ls(repo, 'pkg/detectors'):
        if not path.endswith('_test.go') or 'integration' in path:
            continue
        src = show(repo, path)
        if '_Pattern' not in src:
            continue
        toks = tokenize(src)
        env = string_env(toks)
        # pattern test functions
        for i in range(len(toks) - 2):
            if toks[i] == ('ident', 'func') and toks[i + 1][0] == 'ident' and 'Pattern' in toks[i + 1][1]:
                # find `[]struct{...}{ cases }`
                k = i
                while k < len(toks) - 1 and not (toks[k][1] == 'struct' and toks[k - 1][1] == ']'):
                    k += 1
                if k >= len(toks) - 1:
                    continue
                sb = k + 1
                se = match_close(toks, sb)
                cb = se + 1
                if toks[cb][1] != '{':
                    continue
                ce = match_close(toks, cb)
                fenv = dict(env)
                fenv.update(string_env(toks[i:cb]))
                for case in split_top(toks[cb + 1:ce]):
                    if not case or case[0][1] != '{':
                        continue
                    fields = {}
                    for f in split_top(case[1:-1]):
                        if len(f) >= 3 and f[0][0] == 'ident' and f[1][1] == ':':
                            fields[f[0][1]] = f[2:]
                    if 'input' not in fields or 'want' not in fields:
                        stats['skipped'] += 1
                        continue
                    try:
                        text = eval_expr(fields['input'], fenv)
                    except (Unresolved, Exception):
                        stats['skipped'] += 1
                        continue
                    w = fields['want']
                    if len(w) == 1 and w[0][1] == 'nil':
                        wants = []
                    elif len(w) >= 4 and w[0][1] == '[' and w[1][1] == ']' and w[2][1] == 'string':
                        j = match_close(w, 3)
                        try:
                            wants = [eval_expr(e, fenv) for e in split_top(w[4:j]) if e]
                        except (Unresolved, Exception):
                            stats['skipped'] += 1
                            continue
                    else:
                        stats['skipped'] += 1
                        continue
                    name = ''
                    if 'name' in fields:
                        try:
                            name = eval_expr(fields['name'], fenv)
                        except Exception:
                            pass
                    det = path.split('/')[2]
                    out.append(dict(source='trufflehog', file=path, rule=det + ':' + name, kind='pos' if wants else 'neg', text=text, secrets=wants))
                    stats['ok'] += 1
    print('trufflehog', stats, file=sys.stderr)


def main():
    out = []
    leaks_style('gitleaks', out)
    leaks_style('betterleaks', out)
    kingfisher(out)
    kingfisher(out, 'noseyparker', 'crates/noseyparker/data/default/builtin/rules')
    trufflehog(out)
    secretlint(out)
    with open(os.path.join(os.path.dirname(__file__), 'examples.jsonl'), 'w') as f:
        for r in out:
            f.write(json.dumps(r) + '\n')
    print('total', len(out), file=sys.stderr)


if __name__ == '__main__':
    main()
