"""Compares .npy files without numpy (the GPU machine may lack it): for float32 arrays prints
max|a-b|/max|b|; for uint32 label maps prints the adjusted Rand index.
    python3 scripts/npy_compare.py A.npy B.npy"""
import ast, sys
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

kind, a = load(sys.argv[1]); _, b = load(sys.argv[2])
if kind == "<f4":
    ref = max(abs(v) for v in b) or 1.0
    print("%s relative error %.2e" % (sys.argv[1].split("/")[-1], max(abs(x - y) for x, y in zip(a, b)) / ref))
else:
    print("%s adjusted Rand index %.4f" % (sys.argv[1].split("/")[-1], ari(list(a), list(b))))
