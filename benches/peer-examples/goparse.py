"""Tiny Go-source helpers: tokenise string literals, identifiers, punctuation; evaluate simple
string expressions (literals, identifiers bound to literals, `+`, fmt.Sprintf with %s/%v/%d)."""
import re

TOK = re.compile(r'''
   (?P<raw>`[^`]*`)
 | (?P<str>"(?:[^"\\\n]|\\.)*")
 | (?P<chr>'(?:[^'\\\n]|\\.)*')
 | (?P<comment>//[^\n]*|/\*.*?\*/)
 | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
 | (?P<num>[0-9][0-9a-fA-Fx_.]*)
 | (?P<op>:=|\.\.\.|[{}()\[\],+:=;.*&|!<>-])
 | (?P<ws>\s+)
''', re.S | re.X)


def unquote(s):
    if s.startswith('`'):
        return s[1:-1]
    body = s[1:-1]
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != '\\':
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n == 'n': out.append('\n'); i += 2
        elif n == 't': out.append('\t'); i += 2
        elif n == 'r': out.append('\r'); i += 2
        elif n == '\\': out.append('\\'); i += 2
        elif n == '"': out.append('"'); i += 2
        elif n == "'": out.append("'"); i += 2
        elif n == 'x': out.append(chr(int(body[i + 2:i + 4], 16))); i += 4
        elif n == 'u': out.append(chr(int(body[i + 2:i + 6], 16))); i += 6
        elif n == 'U': out.append(chr(int(body[i + 2:i + 10], 16))); i += 10
        elif n in '01234567': out.append(chr(int(body[i + 1:i + 4], 8))); i += 4
        else: out.append(n); i += 2
    return ''.join(out)


def tokenize(src):
    toks = []
    for m in TOK.finditer(src):
        k = m.lastgroup
        if k in ('ws', 'comment'):
            continue
        toks.append((k, m.group()))
    return toks


def match_close(toks, i):
    """toks[i] is an opening bracket; return index of its match."""
    pairs = {'{': '}', '(': ')', '[': ']'}
    depth = 0
    for j in range(i, len(toks)):
        v = toks[j][1]
        if toks[j][0] != 'op':
            continue
        if v in pairs:
            depth += 1
        elif v in ('}', ')', ']'):
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def split_top(toks, sep=','):
    """split a token list at top-level separators"""
    parts, cur, depth = [], [], 0
    for t in toks:
        if t[0] == 'op' and t[1] in '{([':
            depth += 1
        elif t[0] == 'op' and t[1] in '})]':
            depth -= 1
        if depth == 0 and t[0] == 'op' and t[1] == sep:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        parts.append(cur)
    return parts


class Unresolved(Exception):
    pass


def go_sprintf(fmt, args):
    out, ai, i = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c == '%' and i + 1 < len(fmt):
            n = fmt[i + 1]
            if n == '%':
                out.append('%'); i += 2; continue
            m = re.match(r'%[-+# 0-9.]*([svdqx])', fmt[i:])
            if not m:
                raise Unresolved('fmt')
            if ai >= len(args):
                raise Unresolved('args')
            a = args[ai]; ai += 1
            if m.group(1) == 'q':
                a = '"' + a + '"'
            out.append(a)
            i += len(m.group())
            continue
        out.append(c)
        i += 1
    return ''.join(out)


def eval_expr(toks, env):
    """evaluate a string expression; raise Unresolved if not static"""
    toks = [t for t in toks]
    if not toks:
        raise Unresolved('empty')
    parts = split_top(toks, '+')
    out = []
    for p in parts:
        if len(p) == 1 and p[0][0] in ('raw', 'str'):
            out.append(unquote(p[0][1]))
        elif len(p) == 1 and p[0][0] == 'ident' and p[0][1] in env:
            out.append(env[p[0][1]])
        elif len(p) >= 3 and p[0][0] == 'ident' and p[0][1] in ('fmt.Sprintf',) and p[1][1] == '(':
            j = match_close(p, 1)
            if j != len(p) - 1:
                raise Unresolved('trail')
            args = [eval_expr(a, env) for a in split_top(p[2:j]) if a]
            out.append(go_sprintf(args[0], args[1:]))
        elif len(p) >= 3 and p[0][1] == 'strings.Repeat' and p[1][1] == '(':
            j = match_close(p, 1)
            a = split_top(p[2:j])
            s = eval_expr(a[0], env)
            if len(a[1]) == 1 and a[1][0][0] == 'num':
                out.append(s * int(a[1][0][1]))
            else:
                raise Unresolved('repeat')
        elif len(p) == 3 and p[0][1] == 'string' and p[1][1] == '(' :
            raise Unresolved('conv')
        else:
            raise Unresolved('expr')
    return ''.join(out)


def string_env(toks):
    """package/function-level `name = literal` / `name := literal` / const bindings (best effort)"""
    env = {}
    for _ in range(3):  # a few passes for chained bindings
        i = 0
        while i < len(toks) - 2:
            if toks[i][0] == 'ident' and toks[i + 1][1] in ('=', ':='):
                # expression runs until a token at depth 0 that starts a new statement; approximate:
                j = i + 2
                depth = 0
                expr = []
                while j < len(toks):
                    t = toks[j]
                    if t[0] == 'op' and t[1] in '{([':
                        depth += 1
                    elif t[0] == 'op' and t[1] in '})]':
                        if depth == 0:
                            break
                        depth -= 1
                    if depth == 0 and expr and not (t[0] == 'op' and t[1] == '+') and not (expr[-1][0] == 'op' and expr[-1][1] in '+(') and t[0] in ('ident', 'raw', 'str') and expr[-1][0] in ('ident', 'raw', 'str', 'op') and (expr[-1][0] != 'op' or expr[-1][1] == ')'):
                        break
                    if depth == 0 and t[0] == 'op' and t[1] in (',', ';'):
                        break
                    expr.append(t)
                    j += 1
                try:
                    v = eval_expr(expr, env)
                    env.setdefault(toks[i][1], v)
                except (Unresolved, Exception):
                    pass
            i += 1
    return env
