#!/usr/bin/env python3
"""Our own generated positives: for every gitleaks/betterleaks rule that generates its samples
(GenerateSampleSecret(s)(identifier, <secret expr>)), draw OUR OWN random value from the described format
(the regex given to NewSecret) and put it in our own list of assignment contexts.
Writes generated.jsonl (kind=pos, secrets=[value]).
"""
import json, os, random, re, sre_parse, sre_constants as C, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goparse import tokenize, match_close, split_top, unquote, Unresolved
from extract import REPOS, ls, show

rnd = random.Random(20261202)

UTILS = {
    'utils.Numeric': '[0-9]{%s}', 'utils.Hex': '[a-f0-9]{%s}', 'utils.AlphaNumeric': '[a-z0-9]{%s}',
    'utils.AlphaNumericExtendedShort': '[a-z0-9_-]{%s}', 'utils.AlphaNumericExtended': '[a-z0-9=_\\-]{%s}',
    'utils.AlphaNumericExtendedLong': '[a-z0-9\\/=_\\+\\-]{%s}',
}
POSIX = {'[:alnum:]': 'a-zA-Z0-9', '[:alpha:]': 'a-zA-Z', '[:digit:]': '0-9', '[:xdigit:]': '0-9a-fA-F',
         '[:word:]': 'a-zA-Z0-9_', '[:upper:]': 'A-Z', '[:lower:]': 'a-z', '[:punct:]': '!-/'}

CATS = {
    C.CATEGORY_DIGIT: '0123456789',
    C.CATEGORY_WORD: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_',
    C.CATEGORY_SPACE: ' ',
}
ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'


def gen_items(items):
    out = []
    for op, av in items:
        if op == C.LITERAL:
            out.append(chr(av))
        elif op == C.NOT_LITERAL:
            out.append(rnd.choice([c for c in ALNUM if ord(c) != av]))
        elif op == C.ANY:
            out.append(rnd.choice(ALNUM))
        elif op == C.IN:
            chars = []
            neg = False
            for iop, iav in av:
                if iop == C.NEGATE:
                    neg = True
                elif iop == C.LITERAL:
                    chars.append(chr(iav))
                elif iop == C.RANGE:
                    chars.extend(chr(c) for c in range(iav[0], iav[1] + 1))
                elif iop == C.CATEGORY:
                    chars.extend(CATS.get(iav, 'a'))
            if neg:
                chars = [c for c in ALNUM if c not in chars]
            out.append(rnd.choice(chars))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, hi, sub = av
            if hi == C.MAXREPEAT:
                hi = lo + 16
            n = rnd.randint(lo, hi)
            for _ in range(n):
                out.append(gen_items(sub))
        elif op == C.SUBPATTERN:
            out.append(gen_items(av[-1]))
        elif op == C.BRANCH:
            out.append(gen_items(rnd.choice(av[1])))
        elif op == C.CATEGORY:
            out.append(rnd.choice(CATS.get(av, 'a')))
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            pass
        elif op == C.GROUPREF:
            pass
        else:
            raise Unresolved(f'op {op}')
    return ''.join(out)


def gen_regex(rx):
    for k, v in POSIX.items():
        rx = rx.replace(k, v)
    return gen_items(sre_parse.parse(rx))


def ev(toks, env, regex_mode=False):
    """evaluate a Go string expression where secrets.NewSecret(x) draws a random string from regex x"""
    out = []
    for p in split_top(toks, '+'):
        if len(p) == 1 and p[0][0] in ('raw', 'str'):
            out.append(unquote(p[0][1]))
        elif len(p) == 1 and p[0][0] == 'ident' and p[0][1] in env:
            out.append(env[p[0][1]])
        elif len(p) >= 3 and p[1][1] == '(' and match_close(p, 1) == len(p) - 1:
            fn = p[0][1]
            args = [a for a in split_top(p[2:-1]) if a]
            if fn == 'secrets.NewSecret':
                rx = ev(args[0], env, True)
                out.append(gen_regex(rx))
            elif fn in UTILS:
                out.append(UTILS[fn] % ev(args[0], env))
            elif fn == 'utils.Hex8_4_4_4_12':
                out.append('[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
            elif fn == 'fmt.Sprintf':
                vals = [ev(a, env) for a in args]
                out.append(vals[0].replace('%s', '{}').format(*vals[1:]))
            else:
                raise Unresolved(fn)
        else:
            raise Unresolved('expr')
    return ''.join(out)


# Our own contexts. {i}: identifier as given, {I}: upper-case with _, {c}: camelCase base.
CONTEXTS = [
    '{I}_TOKEN={s}',
    '{I}_API_KEY="{s}"',
    "export {I}_SECRET='{s}'",
    '{{"{i}_token": "{s}"}}',
    '{{\n  "{c}": {{\n    "apiKey": "{s}"\n  }}\n}}',
    '{i}_api_key: {s}',
    "{i}:\n  token: '{s}'",
    '<{c}Token>{s}</{c}Token>',
    '<add key="{c}ApiKey" value="{s}" />',
    "{i}_token = '{s}'",
    'const {c}Token = "{s}";',
    '{c}Key := "{s}"',
    'private static final String {I}_KEY = "{s}";',
    '${c}Secret = "{s}";',
    '[{i}]\napi_key = "{s}"',
    '{i}.api.token={s}',
    '      - {I}_TOKEN={s}',
    'val {c}Token = "{s}"',
    'os.environ.setdefault("{I}_API_KEY", "{s}")',
    '# {i} token: {s}',
]


def norm_ident(i):
    base = re.sub(r'[^A-Za-z0-9]+', '_', i).strip('_') or 'x'
    camel = base.split('_')[0].lower() + ''.join(w.capitalize() for w in base.split('_')[1:])
    return base.lower(), base.upper(), camel


def main():
    out = []
    stats = {'rules': 0, 'skipped': 0}
    for name in ('gitleaks', 'betterleaks'):
        repo = REPOS[name]
        for path in ls(repo, 'cmd/generate/config/rules'):
            if not path.endswith('.go') or path.endswith('_test.go'):
                continue
            toks = tokenize(show(repo, path))
            starts = [i for i, t in enumerate(toks) if t == ('ident', 'func')] + [len(toks)]
            for a, b in zip(starts, starts[1:]):
                ft = toks[a:b]
                rid = None
                for i in range(len(ft) - 2):
                    if ft[i][1] == 'RuleID' and ft[i + 1][1] == ':' and ft[i + 2][0] in ('str', 'raw'):
                        rid = unquote(ft[i + 2][1])
                for i in range(len(ft) - 1):
                    if ft[i][1] in ('utils.GenerateSampleSecrets', 'utils.GenerateSampleSecret') and ft[i + 1][1] == '(':
                        j = match_close(ft, i + 1)
                        args = [x for x in split_top(ft[i + 2:j]) if x]
                        if len(args) != 2:
                            continue
                        try:
                            ident = ev(args[0], {})
                            samples = set()
                            for _ in range(3):
                                samples.add(ev(args[1], {}))
                        except (Unresolved, Exception) as e:
                            stats['skipped'] += 1
                            continue
                        stats['rules'] += 1
                        low, up, camel = norm_ident(ident)
                        for k, ctx in enumerate(CONTEXTS):
                            s = sorted(samples)[k % len(samples)]
                            text = ctx.format(i=low, I=up, c=camel, s=s)
                            out.append(dict(source='gen-' + name, file=path, rule=f'{rid}#{k}', kind='pos', text=text, secrets=[s]))
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'generated.jsonl'), 'w') as f:
        for r in out:
            f.write(json.dumps(r) + '\n')
    print(stats, len(out), file=sys.stderr)


if __name__ == '__main__':
    main()
