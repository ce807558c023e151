//! Starting a network at a depth level (`Backbone::logits_from_level`): the ResNets, RegNetX,
//! the VGGs, AlexNet and the inverted-residual networks continue from a level's activations
//! to the logits the whole network gives, and the gradient at a replaced level
//! (`level_gradient_replaced`, what `layer-integrated-gradients` asks for) equals the one of
//! the whole network run with the level replaced; backbones that cannot start inside run whole.

mod common;

use nas_core::backbone::{hooked_level_gradient, level_gradient_replaced, logits_with_level, normalise};
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Objective, LEVELS};
use std::error::Error;
use std::path::Path;

type TestResult = Result<(), Box<dyn Error>>;

fn load(name: &str) -> Result<Box<dyn Backbone>, Box<dyn Error>> {
    nas_plugins::link();
    Ok(nas_plugins::backbones::load(
        name,
        Path::new("random:0"),
        nas_core::device::default_device(),
    )?)
}

#[test]
fn every_level_continues_to_the_whole_networks_logits() -> TestResult {
    let photo = common::cropped_photo("chelsea-224", 160, 128);
    for name in [
        "resnet18",
        "resnet50",
        "regnet_x_400mf",
        "vgg16_bn",
        "alexnet",
        "efficientnet-lite0",
        "mobilenet_v2",
        "mnasnet0_5",
    ] {
        let net = load(name)?;
        let photo = if name == "alexnet" {
            common::cropped_photo("chelsea-224", 224, 224)
        } else {
            photo.clone()
        };
        let input = normalise(&[&photo], net.info(), net.device())?;
        let whole = net.forward(input.clone());
        let logits = to_host(whole.logits)?;
        for (level, activation) in whole.levels.into_iter().enumerate() {
            let started = net
                .logits_from_level(level, activation)
                .ok_or_else(|| format!("{name} does not start at level {level}"))??;
            let error = common::relative_error(&to_host(started)?, &logits);
            eprintln!("{name} from level {level}: {error:.1e} from the whole network");
            assert!(error <= 1e-4, "{name} level {level}: {error}");
        }
        let wrong = nas_core::NasTensor::<4>::zeros([1, net.info().level_channels[2] + 1, 4, 4], net.device());
        let refused = net
            .logits_from_level(2, wrong)
            .ok_or("a refusal")?
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(refused.contains("level 2"), "{name}: {refused}");
    }
    Ok(())
}

#[test]
fn a_replaced_levels_gradient_is_the_whole_networks() -> TestResult {
    let photos = [
        common::cropped_photo("chelsea-224", 128, 128),
        common::cropped_photo("coffee-224", 128, 128),
    ];
    for name in ["resnet18", "vgg11", "efficientnet-lite0", "shufflenet_v2_x0_5"] {
        let net = load(name)?;
        let input = normalise(&[&photos[0], &photos[1]], net.info(), net.device())?;
        let targets = [3, 7];
        for level in 0..LEVELS {
            let moved = net.forward(input.clone()).levels.swap_remove(level) * 0.7;
            let fast = level_gradient_replaced(net.as_ref(), input.clone(), level, moved.clone(), Objective::Targets(&targets))?;
            let whole = hooked_level_gradient(
                |x, hook| net.forward_hooked(x, hook),
                input.clone(),
                level,
                Some(moved.clone()),
                Objective::Targets(&targets),
            )?;
            let whole_logits = to_host(whole.logits)?;
            let error = common::relative_error(&to_host(fast.grad)?, &to_host(whole.grad)?);
            let logits = common::relative_error(&to_host(fast.logits)?, &whole_logits);
            let plain = common::relative_error(
                &to_host(logits_with_level(net.as_ref(), input.clone(), level, moved)?)?,
                &whole_logits,
            );
            eprintln!("{name} level {level}: gradient {error:.1e}, logits {logits:.1e} and {plain:.1e} from the whole network");
            assert!(
                error <= 1e-4 && logits <= 1e-4 && plain <= 1e-4,
                "{name} level {level}: {error}, {logits}, {plain}"
            );
        }
    }
    Ok(())
}
