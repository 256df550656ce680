"""Re-plants every rule's example secrets in 30 kinds of file (.env, YAML, JSON, Python, JS, Go, XML,
.properties, Terraform, shell, PowerShell, Dockerfile, Kubernetes env, C#, TOML, GitHub Actions, Ruby,
PHP, Java, INI, a default for a missing environment variable in JS, Python (`or`, and `default=` as a
keyword argument) and shell, a command-line
flag, an HTTP header, a query string, a YAML block scalar, a SQL row and a Jupyter notebook cell)
under the variable name pkhound reads in the example, and counts, per kind, the
secrets found by any rule and by the example's own rule. A kind that finds fewer than the plainest
(`NAME = "..."` in Python) is a context the rules do not read.

usage: python3 benches/replant_contexts.py target/release/pkhound [misses.json]
"""
import json, os, subprocess, sys, tomllib, glob, shutil, collections, tempfile
BIN = sys.argv[1]; OUT = sys.argv[2] if len(sys.argv) > 2 else None
RULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'rules')
WORK = tempfile.mkdtemp(prefix='pkh-replant-')
rules = []
for f in sorted(glob.glob(os.path.join(RULES, '*.toml'))):
    d = tomllib.load(open(f, 'rb'))
    for r in d.get('rule', []):
        ex = r.get('examples', {})
        if r.get('path') or ex.get('base64'): continue
        for i, p in enumerate(ex.get('positive', [])):
            rules.append((r['id'], i, p['text'], p['secret'], r.get('tags', [])))
# 1. variable names from pkhound's own reading of each example
src = os.path.join(WORK, 'src'); shutil.rmtree(src, ignore_errors=True); os.makedirs(src)
for n, (rid, i, text, sec, tags) in enumerate(rules):
    open(f'{src}/{n}.txt', 'w').write(text)
rep = json.loads(subprocess.run([BIN, 'scan', src, '--format', 'json', '--show-secrets', '--no-config', '-q'], capture_output=True, text=True).stdout)
var = {}
for f in rep['findings']:
    n = int(os.path.basename(f['path']).split('.')[0])
    rid, i, text, sec, tags = rules[n]
    if f['rule_id'] == rid and f['secret'] == sec and f.get('variable'):
        var[n] = f['variable']
cases = {}
def ctxs(v, s):
    up = v.upper().replace('-', '_').replace('.', '_')
    return {
        'env': (f'{up}={s}\n', '.env'),
        'yaml': (f'config:\n  {v}: "{s}"\n', 'config.yaml'),
        'json': (json.dumps({v: s}, indent=2) + '\n', 'settings.json'),
        'py': (f'{v} = "{s}"\n', 'settings.py'),
        'js': (f"const {v} = '{s}';\n", 'config.js'),
        'go': (f'\t{v} := "{s}"\n', 'main.go'),
        'xml': (f'<appSettings>\n  <add key="{v}" value="{s}" />\n</appSettings>\n', 'web.config'),
        'props': (f'{v.replace("_", ".")}={s}\n', 'application.properties'),
        'tf': (f'variable "x" {{\n  {v} = "{s}"\n}}\n', 'main.tf'),
        'sh': (f'export {up}="{s}"\n', 'deploy.sh'),
        'ps1': (f'$env:{up} = "{s}"\n', 'setup.ps1'),
        'docker': (f'ENV {up}={s}\n', 'Dockerfile'),
        'k8s': (f'env:\n  - name: {up}\n    value: "{s}"\n', 'deployment.yaml'),
        'cs': (f'    private const string {v} = "{s}";\n', 'Config.cs'),
        'toml': (f'[service]\n{v} = "{s}"\n', 'config.toml'),
        'ghactions': (f'    env:\n      {up}: {s}\n', '.github/workflows/ci.yml'),
        'rb': (f'ENV["{up}"] ||= "{s}"\n', 'config/initializers/x.rb'),
        'php': (f"define('{up}', '{s}');\n", 'wp-config.php'),
        'java': (f'    private static final String {up} = "{s}";\n', 'Config.java'),
        'ini': (f'[default]\n{v} = {s}\n', 'config.ini'),
        # A default for when the environment lacks the variable.
        'js-default': (f'const {v} = process.env.{up} || "{s}";\n', 'src/env.js'),
        'py-default': (f'{v} = os.getenv("{up}") or "{s}"\n', 'settings.py'),
        'sh-default': (f'{up}="${{{up}:-{s}}}"\n', 'run.sh'),
        # python-decouple's / django-environ's default as a keyword argument.
        'py-kwarg': (f'{v} = config("{up}", default="{s}")\n', 'settings.py'),
        # A command line, an HTTP header, a query string, a YAML block scalar, a SQL row, a notebook cell.
        'cli-flag': (f'mytool deploy --{v.lower().replace("_", "-")}={s} --region eu-west-1\n', 'deploy.sh'),
        'header': (f'curl -s -H "{v}: {s}" https://api.example.net/v1/items\n', 'call.sh'),
        'query': (f'GET https://api.example.net/v1/items?{v}={s}&limit=10\n', 'notes.http'),
        'yaml-block': (f'config:\n  {v}: >-\n    {s}\n', 'values.yaml'),
        'sql': (f"INSERT INTO settings (name, value) VALUES ('{v}', '{s}');\n", 'seed.sql'),
        'ipynb': (json.dumps({'cells': [{'cell_type': 'code', 'source': ['import os\n', f'{v} = "{s}"\n']}]}, indent=1) + '\n', 'analysis.ipynb'),
    }
root = os.path.join(WORK, 'cases'); shutil.rmtree(root, ignore_errors=True)
meta = {}
for n, v in var.items():
    rid, i, text, sec, tags = rules[n]
    for name, (body, fname) in ctxs(v, sec).items():
        d = f'{root}/{n}/{name}'
        os.makedirs(os.path.dirname(f'{d}/{fname}'), exist_ok=True)
        open(f'{d}/{fname}', 'w').write(body)
        meta[f'{n}/{name}/{fname}'] = (rid, sec, name, v)
rep = json.loads(subprocess.run([BIN, 'scan', root, '--format', 'json', '--show-secrets', '--no-config', '-q'], capture_output=True, text=True).stdout)
got = collections.defaultdict(set)
for f in rep['findings']:
    got[f['path']].add((f['rule_id'], f['secret']))
miss = collections.Counter(); per = collections.defaultdict(list)
tot = collections.Counter(); own = collections.Counter()
for path, (rid, sec, name, v) in meta.items():
    tot[name] += 1
    found = got.get(path, set())
    if (rid, sec) in found:
        own[name] += 1
    if not any(s == sec or sec in s for (r, s) in found):
        miss[name] += 1; per[name].append((rid, v, sec, sorted(found)))
print('rules with a variable:', len(var), 'of', len(rules), 'examples')
print(f'{"kind":10} {"found":>6} {"own rule":>9} {"of":>6}')
for name in tot:
    print(f'{name:10} {tot[name]-miss[name]:6} {own[name]:9} {tot[name]:6}')
if OUT:
    json.dump(per, open(OUT, 'w'), indent=1)
shutil.rmtree(WORK, ignore_errors=True)
