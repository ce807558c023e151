"""Splits activation modules that a network calls several times (torchvision's ResNet blocks,
EfficientNet's blocks) into one module per call, which Captum's DeepLift requires; the network
computes the same function. Used by the DeepLift fixture and benchmark scripts."""
import torch.nn as nn


class Unshared(nn.Module):
    """One activation module per call within a forward pass (reset before each pass)."""

    def __init__(self, make, calls):
        super().__init__()
        self.parts = nn.ModuleList([make() for _ in range(calls)])
        self.calls = 0

    def forward(self, x):
        part = self.parts[self.calls]
        self.calls += 1
        return part(x)


def unshare(model, kind, make, calls=4):
    """Replaces every `kind` child of `model` by an `Unshared` of `calls` fresh `make()` modules."""
    wrappers = []
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, kind):
                wrapper = Unshared(make, calls)
                setattr(module, name, wrapper)
                wrappers.append(wrapper)

    def reset(*_):
        for w in wrappers:
            w.calls = 0
    model.register_forward_pre_hook(reset)
    return model
