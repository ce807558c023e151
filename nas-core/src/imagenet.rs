//! The 1000 ImageNet class names, in torchvision's order, for readable predictions.

const NAMES: &str = include_str!("imagenet_classes.txt");

/// Name of ImageNet class `index`, or `None` outside 0..1000.
pub fn class_name(index: usize) -> Option<&'static str> {
    NAMES.lines().nth(index)
}
