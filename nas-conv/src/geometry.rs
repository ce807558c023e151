//! The shape of a convolution: channels, square kernel, stride and padding.

use crate::error::ConvError;

/// Geometry of a 2D convolution with a square kernel, as PyTorch's `Conv2d` (dilation 1), with
/// possibly asymmetric zero padding; ordinary (`groups == 1`) or depthwise
/// (`groups == in_channels == out_channels`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel: usize,
    /// Stride in both directions.
    pub stride: usize,
    /// Zero padding: top, left, bottom, right.
    pub padding: [usize; 4],
    /// Channel groups: 1, `in_channels` for a depthwise convolution, or any divisor of both
    /// channel counts.
    pub groups: usize,
}

impl ConvGeometry {
    /// An ordinary convolution padded by `pad` on every side.
    pub fn symmetric(in_channels: usize, out_channels: usize, kernel: usize, stride: usize, pad: usize) -> ConvGeometry {
        ConvGeometry {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding: [pad; 4],
            groups: 1,
        }
    }

    /// Shape of the weight tensor, `(out, in / groups, k, k)`.
    pub fn weight_dims(&self) -> [usize; 4] {
        [self.out_channels, self.in_channels / self.groups.max(1), self.kernel, self.kernel]
    }

    /// Output height and width for an input of `height x width`, or an error when the padded
    /// input is smaller than the kernel.
    pub fn output_size(&self, height: usize, width: usize) -> Result<(usize, usize), ConvError> {
        let [top, left, bottom, right] = self.padding;
        let padded_h = height + top + bottom;
        let padded_w = width + left + right;
        self.validate()?;
        if padded_h < self.kernel || padded_w < self.kernel {
            return Err(ConvError::Geometry(format!(
                "a {height}x{width} input padded to {padded_h}x{padded_w} is smaller than the {k}x{k} kernel",
                k = self.kernel
            )));
        }
        Ok((
            (padded_h - self.kernel) / self.stride + 1,
            (padded_w - self.kernel) / self.stride + 1,
        ))
    }

    /// Values in the weight tensor `(out_channels, in_channels / groups, kernel, kernel)`.
    pub fn weight_len(&self) -> usize {
        self.weight_dims().iter().product()
    }

    /// Whether this is a depthwise convolution: one kernel per channel.
    pub fn is_depthwise(&self) -> bool {
        self.groups > 1 && self.groups == self.in_channels && self.groups == self.out_channels
    }

    /// Checks what a plan needs: kernel and stride of at least 1, and groups that divide both
    /// channel counts.
    pub fn validate(&self) -> Result<(), ConvError> {
        if self.kernel == 0 || self.stride == 0 {
            return Err(ConvError::Geometry(format!(
                "kernel {} and stride {} must both be at least 1",
                self.kernel, self.stride
            )));
        }
        if self.groups == 0 || !self.in_channels.is_multiple_of(self.groups) || !self.out_channels.is_multiple_of(self.groups) {
            return Err(ConvError::Geometry(format!(
                "groups {} with {} input and {} output channels: expected a number of groups that divides both",
                self.groups, self.in_channels, self.out_channels
            )));
        }
        Ok(())
    }
}
