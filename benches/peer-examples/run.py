#!/usr/bin/env python3
"""Run pkhound over the peers' examples, per provider.

usage: run.py [--bin PATH] [--out PREFIX] [--provider P]
Writes PREFIX.txt (summary + per-provider table) and PREFIX-details.txt (misses / false alarms).
"""
import argparse, collections, glob, json, os, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))

ALIAS = {
    '1password': 'onepassword', 'hashes': 'password-hash', 'artifactory': 'jfrog', 'terraform': 'hashicorp', 'vault': 'hashicorp',
    'hashicorptf': 'hashicorp', 'confluence': 'atlassian', 'jira': 'atlassian', 'sendinblue': 'brevo',
    'fly': 'flyio', 'drone': 'droneci', 'dockerhub': 'docker', 'postgres': 'database', 'postgresql': 'database',
    'jdbc': 'database', 'sqlserver': 'database', 'mysql': 'database', 'uri': 'url', 'privatekey': 'private-key',
    'sshkey': 'private-key', 'langchain': 'langsmith', 'microsoftteamswebhook': 'microsoft-teams',
    'teams': 'microsoft-teams', 'cratesio': 'crates', 'newrelic': 'newrelic', 'gcpapplicationdefaultcredentials': 'gcp',
    'twitterconsumerkey': 'twitter', 'kubernetes': 'kubernetes', 'sonarqube': 'sonar', 'sonarcloud': 'sonar',
    'travis': 'travisci', 'definednetworking': 'defined-networking', 'defined': 'defined-networking',
    'meraki': 'cisco', 'redis': 'database', 'rabbitmq': 'database', 'odbc': 'database', 'ftp': 'url',
    'privkey': 'private-key', 'pem': 'private-key', 'artifactoryreferencetoken': 'jfrog', 'jiratoken': 'atlassian',
    'weightsandbiases': 'wandb', 'mongo': 'mongodb', 'reactapp': 'client-env', 'react': 'client-env',
    'boxcom': 'box', 'feishu': 'lark', 'checkoutcom': 'checkout', 'denodeploy': 'deno',
    'x': 'twitter', 'nytimes': 'nytimes', 'newyorktimes': 'nytimes', 'line': 'line',
    'nvapi': 'nvidia', 'moonshot': 'kimi', 'stability': 'stabilityai', 'together': 'togetherai',
    'elasticemail': None, 'astra': 'datastax', 'cockroach': 'cockroachlabs',
    'terraformcloudpersonaltoken': 'hashicorp', 'terraformcloud': 'hashicorp', 'vagrantcloud': 'hashicorp',
    'vagrantcloudpersonaltoken': 'hashicorp', 'netrc': 'generic', 'nexmoapikey': 'vonage', 'sendinbluev2': 'brevo',
    'youtube': 'google', 'youtubeapikey': 'google', 'ldap': 'database',
    'basicauth': 'url', 'secp256k1privatekey': 'crypto-wallet',
}
SHORT_PREFIX_OK = {'aws', 'npm', 'gcp', 'ibm'}


def norm(s):
    return re.sub(r'[^a-z0-9]', '', s.lower())


def stems():
    return sorted(os.path.basename(p)[:-5] for p in glob.glob(f'{REPO}/rules/*.toml'))


def rule_ids():
    m = {}
    for p in glob.glob(f'{REPO}/rules/*.toml'):
        stem = os.path.basename(p)[:-5]
        for rid in re.findall(r"^id\s*=\s*['\"]([^'\"]+)", open(p).read(), re.M):
            m[rid] = stem
    return m


_ID_PREFIXES = None


def id_prefixes():
    global _ID_PREFIXES
    if _ID_PREFIXES is None:
        _ID_PREFIXES = {}
        for rid, stem in sorted(rule_ids().items()):
            parts = rid.split('-')
            for k in range(1, len(parts)):
                key = norm('-'.join(parts[:k]))
                if len(key) >= 4:
                    _ID_PREFIXES.setdefault(key, stem)
    return _ID_PREFIXES


def provider_of(rec, st):
    f = rec['file']
    if rec['source'] == 'trufflehog':
        name = f.split('/')[2]
    else:
        name = os.path.basename(f).rsplit('.', 1)[0]
    n = norm(name)
    by_norm = {norm(s): s for s in st}
    if n in ALIAS:
        return name, ALIAS[n]
    if n in by_norm:
        return name, by_norm[n]
    # A provider without a file of its own, whose rules sit in a grouped file (`serpapi-api-key` in
    # `scraping-apis.toml`): matched by a rule id's leading words.
    by_id = id_prefixes()
    if n in by_id:
        return name, by_id[n]
    best = None
    for k, s in by_norm.items():
        if (len(k) >= 4 or k in SHORT_PREFIX_OK) and n.startswith(k):
            if best is None or len(k) > len(best[0]):
                best = (k, s)
    return name, best[1] if best else None


PH = re.compile(r'(?i)abcdef|bcdefg|123456|234567|345678|987654|xxxx|aaaaaa|bbbbbb|cccccc|111111|222222|000000|example|fake|your[_-]|dummy|sample|placeholder|qwerty|abc123|1a2b3c|a1b2c3|klmnop|uvwxyz|secret-|_here|<your[^>]*>')


def placeholder_like(r):
    return bool(PH.search(r['text']))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', default=f'{REPO}/target/release/pkhound')
    ap.add_argument('--out', default=f'{HERE}/last')
    ap.add_argument('--provider')
    ap.add_argument('--examples', default=f'{HERE}/examples.jsonl')
    a = ap.parse_args()
    st = stems()
    rid2stem = rule_ids()
    recs = [json.loads(l) for l in open(a.examples)]
    seen = set()
    items = []
    uncovered = collections.Counter()
    for r in recs:
        peer_name, prov = provider_of(r, st)
        if prov is None:
            uncovered[norm(peer_name)] += 1
            continue
        if a.provider and prov != a.provider:
            continue
        key = (prov, r['kind'], r['text'])
        if key in seen:
            continue
        seen.add(key)
        r['prov'] = prov
        items.append(r)
    tmp = tempfile.mkdtemp(prefix='pkh-eval-')
    d = os.path.join(tmp, 'ex')
    os.makedirs(d)
    for i, r in enumerate(items):
        with open(os.path.join(d, f'e{i:05d}.txt'), 'w') as f:
            f.write(r['text'] if r['text'].endswith('\n') else r['text'] + '\n')
    p = subprocess.run([a.bin, 'scan', d, '--format', 'json', '--color', 'never', '--no-config', '--no-progress', '-q', '--all-occurrences', '--no-ignore'], capture_output=True)
    try:
        data = json.loads(p.stdout)
    except Exception:
        print(p.stdout[:2000], p.stderr[:2000])
        raise
    findings = data['findings'] if isinstance(data, dict) else data
    byfile = collections.defaultdict(list)
    for fd in findings:
        path = fd.get('path') or fd.get('file')
        byfile[os.path.basename(path)].append(fd)
    shutil.rmtree(tmp)
    # A negative of one peer rule that a rule of the same provider lists as a positive (Slack's user token
    # among the bot-token rule's negatives) tests which of the provider's rules fires, not whether anything
    # should: counted apart.
    pos_texts = {(r['prov'], r['text']) for r in items if r['kind'] == 'pos'}
    cross = 0
    cross_flagged = 0
    per = collections.defaultdict(lambda: collections.Counter())
    details = []
    hits = []
    for i, r in enumerate(items):
        fs = byfile.get(f'e{i:05d}.txt', [])
        prov = r['prov']
        c = per[prov]
        if r['kind'] == 'pos':
            c['pos'] += 1
            hit = bool(fs)
            if hit:
                c['found'] += 1
            if any(rid2stem.get(fd.get('rule_id') or fd.get('rule')) == prov for fd in fs):
                c['found_own'] += 1
            if placeholder_like(r):
                c['pos_ph'] += 1
                c['found_ph'] += hit
            if hit:
                hits.append(f"HIT [{prov}] {r['source']}:{r['rule']} -> {sorted(set(fd.get('rule_id') or fd.get('rule') for fd in fs))}\n  {json.dumps(r['text'][:600])}")
            if not hit:
                details.append(f"MISS [{prov}] {r['source']}:{r['rule']}\n  {json.dumps(r['text'][:600])}\n  want={json.dumps([s[:120] for s in r['secrets']])}")
        else:
            c['neg'] += 1
            if (prov, r['text']) in pos_texts:
                cross += 1
                cross_flagged += bool(fs)
            if fs:
                c['flagged'] += 1
                details.append(f"FA [{prov}] {r['source']}:{r['rule']} -> {sorted(set(fd.get('rule_id') or fd.get('rule') for fd in fs))}\n  {json.dumps(r['text'][:600])}")
    tot = collections.Counter()
    for c in per.values():
        tot.update(c)
    provs_with_pos = [p for p in per if per[p]['pos']]
    good = [p for p in provs_with_pos if per[p]['found'] >= 0.95 * per[p]['pos']]
    lines = []
    lines.append(f"positives found: {tot['found']}/{tot['pos']} = {100*tot['found']/max(1,tot['pos']):.1f}%  (by the provider's own rules: {tot['found_own']}/{tot['pos']} = {100*tot['found_own']/max(1,tot['pos']):.1f}%)")
    np_ = tot['pos'] - tot['pos_ph']; nf = tot['found'] - tot['found_ph']
    lines.append(f"  excluding placeholder-like positives (heuristic): {nf}/{np_} = {100*nf/max(1,np_):.1f}%  ({tot['pos_ph']} placeholder-like, {tot['found_ph']} of them found)")
    lines.append(f"negatives flagged: {tot['flagged']}/{tot['neg']} = {100*tot['flagged']/max(1,tot['neg']):.1f}%")
    clean, clean_flagged = tot['neg'] - cross, tot['flagged'] - cross_flagged
    lines.append(f"  without the {cross} negatives another rule of the same provider calls positive: {clean_flagged}/{clean} = {100*clean_flagged/max(1,clean):.1f}%")
    lines.append(f"providers >=95%: {len(good)}/{len(provs_with_pos)}")
    lines.append(f"uncovered peer providers (not evaluated): {len(uncovered)} names, {sum(uncovered.values())} examples")
    lines.append('')
    lines.append(f"{'provider':22} {'found':>7} {'pos':>5} {'pct':>6} {'own':>5} {'flag':>5} {'neg':>5}")
    for p in sorted(per, key=lambda p: (-(per[p]['pos'] - per[p]['found']), p)):
        c = per[p]
        pct = 100 * c['found'] / c['pos'] if c['pos'] else 100.0
        lines.append(f"{p:22} {c['found']:7} {c['pos']:5} {pct:6.1f} {c['found_own']:5} {c['flagged']:5} {c['neg']:5}")
    open(a.out + '.txt', 'w').write('\n'.join(lines) + '\n')
    open(a.out + '-details.txt', 'w').write('\n'.join(details) + '\n')
    open(a.out + '-hits.txt', 'w').write('\n'.join(hits) + '\n')
    print('\n'.join(lines[:6]))


if __name__ == '__main__':
    main()
