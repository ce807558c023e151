//! Choosing where tensors live: the CPU (burn's Flex backend) or a CUDA GPU, picked at run time.

use crate::error::{NasError, Result};
use burn::backend::flex::FlexDevice;
use burn::tensor::Tensor;

/// The one backend nas runs on: burn's run-time dispatch over Flex (CPU) and CUDA.
pub type Backend = burn::Dispatch;
/// A device of [`Backend`], always wrapped for automatic differentiation.
pub type Device = burn::DispatchDevice;
/// A tensor of rank `D` on [`Backend`].
pub type NasTensor<const D: usize> = Tensor<Backend, D>;

/// Parses a device name: `cpu`, `cuda` or `cuda:N`. The result can record gradients.
pub fn parse_device(name: &str) -> Result<Device> {
    let inner = match name.trim() {
        "cpu" => Device::Flex(FlexDevice),
        other if other == "cuda" || other.starts_with("cuda:") => cuda_device(other)?,
        other => return Err(NasError::InvalidInput(format!("device `{other}`: expected cpu, cuda or cuda:N"))),
    };
    Ok(Device::autodiff(inner))
}

/// The default device: the CPU.
pub fn default_device() -> Device {
    Device::autodiff(Device::Flex(FlexDevice))
}

/// The device without gradient recording: where tensors for pure computation go.
pub fn plain_device(device: &Device) -> Device {
    match device {
        Device::Autodiff(inner) => (**inner).clone(),
        other => other.clone(),
    }
}

/// Whether `device` is the CPU (with or without gradient recording), where nas's host kernels
/// can run.
pub fn is_cpu(device: &Device) -> bool {
    matches!(plain_device(device), Device::Flex(_))
}

/// Whether `x` may take host-only code (plain f32 kernels, batch splitting): it lives on the CPU
/// and no gradient has to flow through what is computed from it.
pub fn runs_on_host<const D: usize>(x: &NasTensor<D>) -> bool {
    is_cpu(&x.device()) && !crate::differentiable::is_differentiable() && !x.is_require_grad()
}

/// `tensor` without gradient recording (unchanged when it records none). Operations on booleans
/// and integers yield such tensors, and they cannot be mixed with recording ones.
pub fn plain<const D: usize>(tensor: NasTensor<D>) -> NasTensor<D> {
    if matches!(tensor.device(), Device::Autodiff(_)) {
        tensor.inner()
    } else {
        tensor
    }
}

/// Waits until every operation queued on `device` has run (for timing; a no-op on the CPU).
pub fn synchronize(device: &Device) -> Result<()> {
    <Backend as burn::tensor::backend::Backend>::sync(device)
        .map_err(|e| NasError::InvalidInput(format!("device {device:?} failed while running queued work: {e:?}")))
}

/// Whether this build can use CUDA (the `cuda` cargo feature).
pub fn cuda_compiled() -> bool {
    cfg!(feature = "cuda")
}

#[cfg(feature = "cuda")]
fn cuda_device(name: &str) -> Result<Device> {
    let index = match name.strip_prefix("cuda:") {
        None => 0,
        Some(n) => n
            .parse::<usize>()
            .map_err(|_| NasError::InvalidInput(format!("device `{name}`: expected cuda:N with N a GPU index")))?,
    };
    Ok(Device::Cuda(burn::backend::cuda::CudaDevice::new(index)))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(name: &str) -> Result<Device> {
    Err(NasError::InvalidInput(format!(
        "device `{name}`: this nas binary was built without CUDA; rebuild with `cargo build --release --features cuda`"
    )))
}
