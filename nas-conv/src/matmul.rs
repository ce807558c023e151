//! A bounds-checked front for the `gemm` crate's matrix product on strided slices.

/// A matrix view: `rows x cols` values starting at `offset`, consecutive rows `row_stride`
/// apart and consecutive columns `col_stride` apart (1 for a row-major matrix).
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
    /// Distance between consecutive values of a row.
    pub col_stride: usize,
}

impl Layout {
    /// A dense row-major matrix at the start of its buffer.
    pub fn dense(rows: usize, cols: usize) -> Layout {
        Layout {
            offset: 0,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, `rows x cols`, of a dense row-major `cols x rows` matrix at the start of
    /// its buffer (read in place: nothing is copied).
    pub fn transposed(rows: usize, cols: usize) -> Layout {
        Layout {
            offset: 0,
            rows,
            cols,
            row_stride: 1,
            col_stride: rows,
        }
    }

    fn fits(&self, len: usize) -> bool {
        self.rows == 0 || self.cols == 0 || self.offset + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride < len
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
            for col in 0..dst_at.cols {
                dst[dst_at.offset + row * dst_at.row_stride + col * dst_at.col_stride] = 0.0;
            }
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
            dst_at.col_stride as isize,
            dst_at.row_stride as isize,
            false,
            lhs.as_ptr().add(lhs_at.offset),
            lhs_at.col_stride as isize,
            lhs_at.row_stride as isize,
            rhs.as_ptr().add(rhs_at.offset),
            rhs_at.col_stride as isize,
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

#[cfg(test)]
mod tests {
    use super::{multiply, Layout};

    /// `a (2 x 3) x b^T`, `b` stored row-major as `4 x 3`, read in place through a transposed
    /// layout, against the sums written out.
    #[test]
    fn transposed_views_multiply_without_copies() {
        let a = [1.0, 2.0, 3.0, -1.0, 0.5, 2.0];
        let b = [1.0, 0.0, 2.0, 0.0, 1.0, 0.0, 3.0, 1.0, 1.0, -2.0, 0.5, 4.0];
        let mut out = [0f32; 8];
        multiply(
            &mut out,
            Layout::dense(2, 4),
            &a,
            Layout::dense(2, 3),
            &b,
            Layout::transposed(3, 4),
            1,
        );
        let expected: Vec<f32> = (0..2)
            .flat_map(|i| (0..4).map(move |j| (0..3).map(|k| a[i * 3 + k] * b[j * 3 + k]).sum::<f32>()))
            .collect();
        assert_eq!(out.to_vec(), expected);
    }
}
