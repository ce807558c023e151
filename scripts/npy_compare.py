"""Compares .npy files without numpy (the GPU machine may lack it): for float32 arrays prints
the worst element's error max|a-b|/max|b|, the overall error |a-b|/|b| (Euclidean norms) and the
Pearson correlation (a gradient map can move a few spikes and still agree); for uint32 label maps
prints the adjusted Rand index.
    python3 scripts/npy_compare.py A.npy B.npy"""
import ast, math, sys
from array import array
from collections import Counter

def load(path):
    data = open(path, "rb").read()
    n = int.from_bytes(data[8:10], "little")
    header = ast.literal_eval(data[10:10 + n].decode())
    kind = {"<f4": "f", "<u4": "I"}[header["descr"]]
    values = array(kind)
    values.frombytes(data[10 + n:])
    return header["descr"], values

def ari(a, b):
    c2 = lambda x: x * (x - 1) / 2
    pairs = sum(c2(v) for v in Counter(zip(a, b)).values())
    sa = sum(c2(v) for v in Counter(a).values()); sb = sum(c2(v) for v in Counter(b).values())
    expected = sa * sb / c2(len(a)); top = (sa + sb) / 2
    return 1.0 if top == expected else (pairs - expected) / (top - expected)

def pearson(a, b):
    n = len(a); ma = sum(a) / n; mb = sum(b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va = sum((x - ma) ** 2 for x in a); vb = sum((y - mb) ** 2 for y in b)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else float("nan")

kind, a = load(sys.argv[1]); _, b = load(sys.argv[2])
if kind == "<f4":
    ref = max(abs(v) for v in b) or 1.0
    worst = max(abs(x - y) for x, y in zip(a, b)) / ref
    norm = math.sqrt(sum(v * v for v in b)) or 1.0
    overall = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b))) / norm
    print("%s relative error %.2e (overall %.2e, correlation %.5f)" % (sys.argv[1].split("/")[-1], worst, overall, pearson(a, b)))
else:
    print("%s adjusted Rand index %.4f" % (sys.argv[1].split("/")[-1], ari(list(a), list(b))))
