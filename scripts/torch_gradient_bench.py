"""PyTorch's input gradient of one torchvision classifier at 224x224 on the CPU, the way
gradient saliency methods take it (Captum's InputXGradient: one forward and one backward pass
of the target logits' sum), for comparison with `nas-plugins`' `gradient_bench` example.
2 threads, torchvision's own random initialisation (speed does not depend on the values), a
fixed random input; prints the median of RUNS after 3 untimed warm-up calls.

    python scripts/torch_gradient_bench.py [--runs 5] [--batch 1] ARCH
Needs torch and torchvision."""
import argparse, time
import torch, torchvision

parser = argparse.ArgumentParser()
parser.add_argument("arch")
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--batch", type=int, default=1)
args = parser.parse_args()
torch.set_num_threads(2)
torch.manual_seed(0)
net = getattr(torchvision.models, args.arch)().eval()
x = torch.randn(args.batch, 3, 224, 224)


def input_gradient():
    leaf = x.clone().requires_grad_()
    net(leaf)[:, 1].sum().backward()
    return leaf.grad


for _ in range(3):
    input_gradient()
times = []
for _ in range(args.runs):
    start = time.perf_counter()
    input_gradient()
    times.append(time.perf_counter() - start)
times.sort()
print(f"{args.arch}: input gradient median of {args.runs} = {times[len(times) // 2] * 1000:.1f} ms")
