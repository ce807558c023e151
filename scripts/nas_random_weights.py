"""nas's `random:SEED` weights in Python (nas-core/src/random_weights.rs): every tensor drawn from
SplitMix64 seeded with SEED ^ FNV-1a(key), float32 uniform values in ranges that depend on the
key and shape (He-uniform for kernels and matrices). Fixture scripts use it to give PyTorch the
very weights `--weights random:SEED` gives nas, for networks too large to commit."""
import numpy as np

M64 = (1 << 64) - 1


def fnv(key):
    h = 0xcbf29ce484222325
    for b in key.encode():
        h = ((h ^ b) * 0x100000001b3) & M64
    return h


def random_values(seed, key, shape):
    count = int(np.prod(shape)) if len(shape) else 1
    state = np.uint64((seed ^ fnv(key)) & M64)
    with np.errstate(over="ignore"):
        z = state + np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    unit = (z >> np.uint64(40)).astype(np.float32) / np.float32(1 << 24)
    if key.endswith("running_var"):
        low, high = 0.5, 1.5
    elif key.endswith("running_mean") or key.endswith("bias"):
        low, high = -0.1, 0.1
    elif len(shape) <= 1:
        low, high = 0.9, 1.1
    else:
        bound = np.sqrt(np.float32(6.0) / np.float32(int(np.prod(shape[1:]))))
        low, high = -bound, bound
    low, high = np.float32(low), np.float32(high)
    return (low + (high - low) * unit).astype(np.float32).reshape(shape)


# Buffers a network derives from its shape, which nas computes rather than reads (nas-core's
# weights.rs, `is_bookkeeping`): left as the model made them.
DERIVED = ("relative_coords_table",)


def random_state_dict(model, seed=0):
    """`model.state_dict()` with every float tensor replaced by nas's `random:SEED` values (but the
    derived buffers), its metadata kept: module versions some loaders check (MNASNet's says its
    stem's layout)."""
    import collections
    import torch
    state = model.state_dict()
    drawn = collections.OrderedDict(
        (k, torch.from_numpy(random_values(seed, k, tuple(v.shape)))
         if v.is_floating_point() and not k.endswith(DERIVED) else v)
        for k, v in state.items())
    drawn._metadata = state._metadata
    return drawn
