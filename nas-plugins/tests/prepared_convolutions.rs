//! The CPU's prepared convolutions (`nas_conv`, used outside a differentiable scope) against
//! burn's differentiable `conv2d` on a real photo with real ResNet-18 weights, and gradients
//! taken at a depth level when the layers before it ran the prepared kernels.

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::differentiable::differentiable;
use nas_core::{Backbone, LevelHook, NasTensor};

fn resnet18_and_photo() -> (Box<dyn Backbone>, NasTensor<4>) {
    let shared = common::shared();
    let device = nas_core::device::default_device();
    let net = nas_plugins::backbones::load("resnet18", &shared.join("weights/resnet18-seed0.pth"), device).expect("resnet18");
    let photo = nas_core::Photo::open(&shared.join("images/chelsea-224.png"), None).expect("photo");
    let input = normalise(&[&photo], net.info(), net.device()).expect("input");
    (net, input)
}

fn values<const D: usize>(t: &NasTensor<D>) -> Vec<f32> {
    t.clone().into_data().into_vec::<f32>().expect("f32 tensor")
}

#[test]
fn prepared_convolutions_match_burns_conv2d() {
    let (net, input) = resnet18_and_photo();
    let fast = net.forward(input.clone());
    let scope = differentiable();
    let reference = net.forward(input);
    drop(scope);
    for (level, (ours, theirs)) in fast.levels.iter().zip(&reference.levels).enumerate() {
        let err = common::relative_error(&values(ours), &values(theirs));
        eprintln!("level {level}: relative difference {err:.2e}");
        assert!(err <= 1e-5, "level {level}: relative difference {err:e}");
    }
    let err = common::relative_error(&values(&fast.logits), &values(&reference.logits));
    assert!(err <= 1e-5, "logits: relative difference {err:e}");
}

/// Adds `step * direction` to level `index`.
struct Nudge {
    index: usize,
    direction: NasTensor<4>,
    step: f32,
}

impl LevelHook for Nudge {
    fn level(&mut self, index: usize, activation: NasTensor<4>) -> NasTensor<4> {
        if index == self.index {
            activation + self.direction.clone() * self.step
        } else {
            activation
        }
    }
}

#[test]
fn level_gradient_agrees_with_finite_differences() {
    let (net, input) = resnet18_and_photo();
    let target = predicted_classes(&net.forward(input.clone()).logits).expect("class")[0];
    let level = 2;
    let gradient = net.level_gradient(input.clone(), level, &[target]).expect("level gradient");
    let grad = values(&gradient.grad);
    let norm = grad.iter().map(|g| g * g).sum::<f32>().sqrt();
    assert!(norm > 0.0, "the gradient at level {level} is zero");
    // Along the unit gradient direction the derivative of the logit is the gradient's norm.
    let direction = gradient.grad.clone() / norm;
    let logit_at = |step: f32| {
        let mut nudge = Nudge {
            index: level,
            direction: direction.clone(),
            step,
        };
        values(&net.forward_hooked(input.clone(), &mut nudge))[target]
    };
    let step = 1e-2;
    let slope = (logit_at(step) - logit_at(-step)) / (2.0 * step);
    let err = (slope - norm).abs() / norm;
    eprintln!("level {level}: finite difference {slope:.5}, gradient norm {norm:.5}, relative {err:.2e}");
    assert!(err <= 2e-2, "finite difference {slope} vs gradient norm {norm}");
}

#[test]
fn gradients_taken_outside_a_scope_are_missing_not_wrong() {
    let (net, input) = resnet18_and_photo();
    let leaf = input.detach().require_grad();
    let logits = net.forward(leaf.clone()).logits;
    let grads = logits.sum().backward();
    assert!(
        leaf.grad(&grads).is_none(),
        "the host kernels cut the graph, so no gradient reaches the input"
    );

    let scope = differentiable();
    let leaf = leaf.detach().require_grad();
    let logits = net.forward(leaf.clone()).logits;
    drop(scope);
    let grads = logits.sum().backward();
    assert!(leaf.grad(&grads).is_some(), "inside a scope the gradient reaches the input");
}
