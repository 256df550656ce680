#!/usr/bin/env python3
"""Prints the table `FLOORS` in src/engine/filter.rs: for each alphabet (hex, base36, base62, base64) and
length, the Shannon entropy that 99% of random strings reach (the 1st percentile of 20,000 draws).
A generic rule's min_entropy is capped at it (`random_entropy_floor`)."""
import collections, math, random, string

random.seed(7)
LENGTHS = (16, 20, 24, 28, 32, 40, 48, 64, 96, 128)
ALPHABETS = [
    ('hex', '0123456789abcdef'),
    ('base36', string.ascii_lowercase + string.digits),
    ('base62', string.ascii_letters + string.digits),
    ('base64', string.ascii_letters + string.digits + '+/'),
]


def entropy(s):
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in collections.Counter(s).values())


for name, alphabet in ALPHABETS:
    row = []
    for n in LENGTHS:
        draws = sorted(entropy(''.join(random.choice(alphabet) for _ in range(n))) for _ in range(20000))
        row.append(f'{draws[len(draws) // 100]:.2f}')
    print(f'    [{", ".join(row)}], // {name}')
