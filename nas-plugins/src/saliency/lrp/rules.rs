//! LRP rules (Bach et al. 2015; Montavon et al. 2019) as zennit 0.5 computes them: each takes the
//! relevance at a layer's output and the layer's input, and returns the relevance at its input.
//! A rule that modifies a linear layer (its input, its parameters) computes the modified outputs
//! `z`, divides the relevance by the stabilised `z`, and maps the quotient back through the
//! modified layer's transpose (the gradient of `z . s` with respect to the input).

use crate::backbones::layers::{Conv2d, Linear};
use nas_core::burn::tensor::module::max_pool2d;
use nas_core::{NasError, NasTensor, Result};

/// zennit's stabiliser: `z + eps sign(z)`, with the sign of 0 taken as +1.
pub fn stabilize<const D: usize>(z: NasTensor<D>, epsilon: f64) -> NasTensor<D> {
    // `sign + 1 - |sign|` is +1 where the sign is 0 (float operations only: comparisons give
    // tensors that cannot be mixed with gradient-recording ones).
    let sign = z.clone().sign();
    let sign = sign.clone() - sign.abs() + 1.0;
    z + sign * epsilon
}

/// `sum_i L_i^T s`, each `L_i` a linear map applied to `inputs[i]`: the gradients of
/// `sum_i L_i(x_i) . s` with respect to every `x_i`.
fn transposed<const D: usize, const E: usize>(
    inputs: &[NasTensor<D>],
    map: impl Fn(usize, NasTensor<D>) -> NasTensor<E>,
    s: NasTensor<E>,
) -> Result<Vec<NasTensor<D>>> {
    let leaves: Vec<NasTensor<D>> = inputs.iter().map(|x| x.clone().detach().require_grad()).collect();
    let total = leaves
        .iter()
        .enumerate()
        .map(|(i, x)| (map(i, x.clone()) * s.clone().detach()).sum())
        .reduce(|a, b| a + b)
        .ok_or_else(|| NasError::InvalidInput("lrp: a rule with no inputs".into()))?;
    let grads = total.backward();
    leaves
        .iter()
        .map(|x| {
            x.grad(&grads)
                .map(NasTensor::from_inner)
                .ok_or_else(|| NasError::InvalidInput("lrp: a layer input received no relevance".into()))
        })
        .collect()
}

/// AlphaBeta (zennit's form, which allows negative inputs): `alpha` times the relevance shared
/// by the positive contributions (positive inputs through positive weights and the positive
/// bias, negative inputs through negative weights) minus `beta` times that shared by the
/// negative ones. `(1, 0)` is zennit's ZPlus.
pub fn conv_alpha_beta(
    conv: &Conv2d,
    x: NasTensor<4>,
    relevance: NasTensor<4>,
    [alpha, beta]: [f64; 2],
    stabilizer: f64,
) -> Result<NasTensor<4>> {
    let (weight, bias, _) = conv.parts();
    let (w_pos, w_neg) = (weight.clone().clamp_min(0.0), weight.clone().clamp_max(0.0));
    let (x_pos, x_neg) = (x.clone().clamp_min(0.0), x.clamp_max(0.0));
    // One group of contributions: (positive inputs, weights, bias) and (negative inputs, the
    // opposite weights, no bias), their share of the relevance mapped back to the inputs.
    let share = |w_for_pos: &NasTensor<4>, w_for_neg: &NasTensor<4>, b: NasTensor<1>| -> Result<NasTensor<4>> {
        let apply = |i: usize, x: NasTensor<4>| match i {
            0 => conv.convolve(x, w_for_pos.clone(), Some(b.clone())),
            _ => conv.convolve(x, w_for_neg.clone(), None),
        };
        let inputs = [x_pos.clone(), x_neg.clone()];
        let z = apply(0, inputs[0].clone()) + apply(1, inputs[1].clone());
        let s = relevance.clone() / stabilize(z, stabilizer);
        let back = transposed(&inputs, apply, s)?;
        Ok(inputs[0].clone() * back[0].clone() + inputs[1].clone() * back[1].clone())
    };
    let positive = share(&w_pos, &w_neg, bias.clone().clamp_min(0.0))?;
    if beta == 0.0 {
        return Ok(positive * alpha);
    }
    let negative = share(&w_neg, &w_pos, bias.clone().clamp_max(0.0))?;
    Ok(positive * alpha - negative * beta)
}

/// `1` where `z > 0` (or, with `negative`, where `z < 0`), `0` elsewhere, zero included.
fn sign_mask<const D: usize>(z: NasTensor<D>, negative: bool) -> NasTensor<D> {
    let sign = z.detach().sign();
    if negative { sign.neg() } else { sign }.clamp_min(0.0)
}

/// Gamma (zennit's generalised form): weights and bias get `gamma` times their positive part
/// added; positive outputs share their relevance among the contributions that raise the output
/// (positive inputs through the raised weights and bias, negative inputs through the lowered
/// weights), negative outputs among those that lower it, and zero outputs pass nothing.
pub fn conv_gamma(conv: &Conv2d, x: NasTensor<4>, relevance: NasTensor<4>, gamma: f64, stabilizer: f64) -> Result<NasTensor<4>> {
    let (weight, bias, _) = conv.parts();
    let raised = weight.clone() + weight.clone().clamp_min(0.0) * gamma;
    let lowered = weight.clone() + weight.clone().clamp_max(0.0) * gamma;
    let raised_bias = bias.clone() + bias.clone().clamp_min(0.0) * gamma;
    let lowered_bias = bias.clone() + bias.clone().clamp_max(0.0) * gamma;
    let output = conv.convolve(x.clone(), weight.clone(), Some(bias.clone()));
    let (x_pos, x_neg) = (x.clone().clamp_min(0.0), x.clamp_max(0.0));
    let inputs = [x_pos, x_neg];
    // Positive inputs through `w_for_pos` and `b`, negative ones through `w_for_neg`, for the
    // outputs of one sign.
    let share = |w_for_pos: &NasTensor<4>, b: &NasTensor<1>, w_for_neg: &NasTensor<4>, negative: bool| -> Result<NasTensor<4>> {
        let apply = |i: usize, x: NasTensor<4>| match i {
            0 => conv.convolve(x, w_for_pos.clone(), Some(b.clone())),
            _ => conv.convolve(x, w_for_neg.clone(), None),
        };
        let z = apply(0, inputs[0].clone()) + apply(1, inputs[1].clone());
        let s = sign_mask(output.clone(), negative) * relevance.clone() / stabilize(z, stabilizer);
        let back = transposed(&inputs, apply, s)?;
        Ok(inputs[0].clone() * back[0].clone() + inputs[1].clone() * back[1].clone())
    };
    Ok(share(&raised, &raised_bias, &lowered, false)? + share(&lowered, &lowered_bias, &raised, true)?)
}

/// ZBox (Montavon et al. 2017) for the first layer of inputs bounded by `low` and `high` (each
/// broadcast over the input): the contributions of the input, less those of the lowest inputs
/// through the positive weights and of the highest through the negative weights.
pub fn conv_zbox(
    conv: &Conv2d,
    x: NasTensor<4>,
    [low, high]: [NasTensor<4>; 2],
    relevance: NasTensor<4>,
    stabilizer: f64,
) -> Result<NasTensor<4>> {
    let (weight, bias, _) = conv.parts();
    let parts = [
        (weight.clone(), bias.clone()),
        (weight.clone().clamp_min(0.0), bias.clone().clamp_min(0.0)),
        (weight.clone().clamp_max(0.0), bias.clone().clamp_max(0.0)),
    ];
    let apply = |i: usize, x: NasTensor<4>| conv.convolve(x, parts[i].0.clone(), Some(parts[i].1.clone()));
    let inputs = [x.clone(), low * x.ones_like(), high * x.ones_like()];
    let z = apply(0, inputs[0].clone()) - apply(1, inputs[1].clone()) - apply(2, inputs[2].clone());
    let s = relevance / stabilize(z, stabilizer);
    let back = transposed(&inputs, apply, s)?;
    Ok(inputs[0].clone() * back[0].clone() - inputs[1].clone() * back[1].clone() - inputs[2].clone() * back[2].clone())
}

/// Flat: every input of a receptive field gets an equal share (ones for inputs and weights, no
/// bias), for the first layer.
pub fn conv_flat(conv: &Conv2d, x: &NasTensor<4>, relevance: NasTensor<4>, stabilizer: f64) -> Result<NasTensor<4>> {
    let (weight, _, _) = conv.parts();
    let ones = weight.ones_like();
    let apply = |_: usize, x: NasTensor<4>| conv.convolve(x, ones.clone(), None);
    let input = x.ones_like();
    let z = apply(0, input.clone());
    let s = relevance / stabilize(z, stabilizer);
    Ok(transposed(&[input], apply, s)?.remove(0))
}

/// Epsilon on a dense layer: the output relevance shared in proportion to each input's
/// contribution, bias included.
pub fn dense_epsilon(layer: &Linear, x: NasTensor<2>, relevance: NasTensor<2>, epsilon: f64) -> Result<NasTensor<2>> {
    let (weight_t, bias) = layer.transposed_weight_and_bias();
    let apply = |_: usize, x: NasTensor<2>| x.matmul(weight_t.clone()) + bias.clone().unsqueeze::<2>();
    let z = apply(0, x.clone());
    let s = relevance / stabilize(z, epsilon);
    Ok(x.clone() * transposed(&[x], apply, s)?.remove(0))
}

/// ZPlus on a dense layer (zennit's form, which allows negative inputs): the relevance shared by
/// the positive contributions alone (positive inputs through positive weights and the positive
/// bias, negative inputs through negative weights); Excitation Backprop's rule for every layer.
pub fn dense_zplus(layer: &Linear, x: NasTensor<2>, relevance: NasTensor<2>, stabilizer: f64) -> Result<NasTensor<2>> {
    let (weight_t, bias) = layer.transposed_weight_and_bias();
    let (w_pos, w_neg) = (weight_t.clone().clamp_min(0.0), weight_t.clone().clamp_max(0.0));
    let b_pos = bias.clone().clamp_min(0.0).unsqueeze::<2>();
    let apply = |i: usize, x: NasTensor<2>| match i {
        0 => x.matmul(w_pos.clone()) + b_pos.clone(),
        _ => x.matmul(w_neg.clone()),
    };
    let inputs = [x.clone().clamp_min(0.0), x.clamp_max(0.0)];
    let z = apply(0, inputs[0].clone()) + apply(1, inputs[1].clone());
    let s = relevance / stabilize(z, stabilizer);
    let back = transposed(&inputs, apply, s)?;
    Ok(inputs[0].clone() * back[0].clone() + inputs[1].clone() * back[1].clone())
}

/// Norm on a parameter-free linear map (a sum of branches, an average pool): relevance shared in
/// proportion to each input's contribution.
pub fn norm<const D: usize, const E: usize>(
    inputs: &[NasTensor<D>],
    map: impl Fn(usize, NasTensor<D>) -> NasTensor<E>,
    relevance: NasTensor<E>,
    stabilizer: f64,
) -> Result<Vec<NasTensor<D>>> {
    let z = inputs
        .iter()
        .enumerate()
        .map(|(i, x)| map(i, x.clone()))
        .reduce(|a, b| a + b)
        .ok_or_else(|| NasError::InvalidInput("lrp: a rule with no inputs".into()))?;
    let s = relevance / stabilize(z, stabilizer);
    let back = transposed(inputs, map, s)?;
    Ok(inputs.iter().zip(back).map(|(x, b)| x.clone() * b).collect())
}

/// Max pooling has no rule in zennit's composites: relevance follows the gradient, all of a
/// window's to its maximum.
pub fn max_pool_gradient(x: NasTensor<4>, kernel: usize, stride: usize, padding: usize, relevance: NasTensor<4>) -> Result<NasTensor<4>> {
    let pool = |_: usize, x: NasTensor<4>| max_pool2d(x, [kernel, kernel], [stride, stride], [padding, padding], [1, 1], false);
    Ok(transposed(&[x], pool, relevance)?.remove(0))
}
