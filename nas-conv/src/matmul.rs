//! A bounds-checked front for the `gemm` crate's matrix product on row-major slices.

/// A row-major matrix view: `rows x cols` values starting at `offset`, consecutive rows
/// `row_stride` apart, consecutive columns adjacent.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Index of the first value.
    pub offset: usize,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance between the starts of consecutive rows.
    pub row_stride: usize,
}

impl Layout {
    /// A dense matrix at the start of its buffer.
    pub fn dense(rows: usize, cols: usize) -> Layout {
        Layout {
            offset: 0,
            rows,
            cols,
            row_stride: cols,
        }
    }

    fn fits(&self, len: usize) -> bool {
        self.rows == 0 || self.cols == 0 || self.offset + (self.rows - 1) * self.row_stride + self.cols <= len
    }
}

/// `dst = lhs x rhs` (overwriting `dst`), on `threads` threads (1: the calling thread only).
pub fn multiply(dst: &mut [f32], dst_at: Layout, lhs: &[f32], lhs_at: Layout, rhs: &[f32], rhs_at: Layout, threads: usize) {
    assert!(
        dst_at.rows == lhs_at.rows && lhs_at.cols == rhs_at.rows && rhs_at.cols == dst_at.cols,
        "matrix product of mismatched shapes"
    );
    assert!(
        dst_at.fits(dst.len()) && lhs_at.fits(lhs.len()) && rhs_at.fits(rhs.len()),
        "matrix view out of its buffer"
    );
    if dst_at.rows == 0 || dst_at.cols == 0 {
        return;
    }
    if lhs_at.cols == 0 {
        for row in 0..dst_at.rows {
            let start = dst_at.offset + row * dst_at.row_stride;
            dst[start..start + dst_at.cols].fill(0.0);
        }
        return;
    }
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the assertions above keep every view inside its slice; `dst` is borrowed mutably
    // and cannot overlap `lhs` or `rhs`; `read_dst` is false so `dst` need not be initialised
    // beyond what the slice already guarantees.
    unsafe {
        gemm::gemm(
            dst_at.rows,
            dst_at.cols,
            lhs_at.cols,
            dst.as_mut_ptr().add(dst_at.offset),
            1,
            dst_at.row_stride as isize,
            false,
            lhs.as_ptr().add(lhs_at.offset),
            1,
            lhs_at.row_stride as isize,
            rhs.as_ptr().add(rhs_at.offset),
            1,
            rhs_at.row_stride as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}
