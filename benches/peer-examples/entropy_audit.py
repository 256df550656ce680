#!/usr/bin/env python3
"""For every rule with min_entropy: draw random secrets from the rule's own `secret` group (uniform over each
character class) and report how many random, real-shaped secrets the threshold would drop.
usage: entropy_audit.py [--max-reject PCT]"""
import glob, math, collections, os, random, re, sys, tomllib, warnings
warnings.filterwarnings('ignore')
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))


def H(s):
    c = collections.Counter(s)
    n = len(s)
    return -sum(v / n * math.log2(v / n) for v in c.values())


def secret_group(rx):
    i = rx.find('(?P<secret>')
    if i < 0:
        return rx
    depth = 0
    j = i
    while j < len(rx):
        ch = rx[j]
        if ch == '\\':
            j += 2
            continue
        if ch == '[':
            # skip class
            j += 1
            if j < len(rx) and rx[j] == '^':
                j += 1
            if j < len(rx) and rx[j] == ']':
                j += 1
            while j < len(rx) and rx[j] != ']':
                if rx[j] == '\\':
                    j += 1
                j += 1
        elif ch == '(':
            depth += 1
        elif ch == ')':
            depth -= 1
            if depth == 0:
                return rx[i + len('(?P<secret>'):j]
        j += 1
    return None


def main():
    gen.rnd.seed(7)
    rows = []
    for p in sorted(glob.glob(f'{REPO}/rules/*.toml')):
        d = tomllib.load(open(p, 'rb'))
        for r in d.get('rule', []):
            me = r.get('min_entropy')
            if me is None:
                continue
            g = secret_group(r['regex'])
            if g is None:
                continue
            outside = re.sub(r'\[(?:\\.|[^\]])*\]', 'C', g.replace('\\+', '').replace('\\*', ''))
            if any(int(x) > 300 for x in re.findall(r'\{(\d+)', g)) or '+' in outside or '*' in outside:
                rows.append((r['id'], me, None, None, 'skip unbounded/long'))
                continue
            try:
                samples = [gen.gen_regex(g) for _ in range(1500)]
            except Exception as e:
                rows.append((r['id'], me, None, None, f'skip {e}'))
                continue
            hs = sorted(H(s) for s in samples if s)
            rej = sum(h < me for h in hs) / len(hs) * 100
            p05 = hs[int(len(hs) * 0.005)]
            rows.append((r['id'], me, rej, p05, os.path.basename(p)))
    for rid, me, rej, p05, f in sorted(rows, key=lambda x: -(x[2] or 0)):
        if rej is None:
            print(f'{rid:45} {me:4} {f}')
        elif rej > 0.5:
            print(f'{rid:45} min_entropy={me:<4} drops {rej:5.1f}% of random secrets; 0.5th pct={p05:.2f}  {f}')


if __name__ == '__main__':
    main()
