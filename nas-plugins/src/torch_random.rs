//! PyTorch's CPU random permutations (`torch.manual_seed(s)`, then `torch.randperm(n)`):
//! torch's default CPU generator is the same MT19937 stream as NumPy's `RandomState(s)`, and
//! `randperm` swaps each position `i` with position `i + u % (n - i)` for the next 32-bit
//! output `u`. Captum's `ShapleyValueSampling` draws its feature orders this way, so a seed gives
//! its orders exactly.

use crate::numpy_random::NumpyRandom;

/// `torch.randperm(n)` drawn from `generator` (seeded as `torch.manual_seed` seeds it:
/// [`NumpyRandom::new`]); successive calls continue the stream as torch's successive calls do.
pub fn randperm(generator: &mut NumpyRandom, n: usize) -> Vec<usize> {
    let mut values: Vec<usize> = (0..n).collect();
    for i in 0..n.saturating_sub(1) {
        let offset = generator.next_u32() as usize % (n - i);
        values.swap(i, i + offset);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::randperm;
    use crate::numpy_random::NumpyRandom;

    #[test]
    fn permutations_are_torchs() {
        // torch.manual_seed(0); torch.randperm(5); torch.randperm(7)
        let mut generator = NumpyRandom::new(0);
        assert_eq!(randperm(&mut generator, 5), [4, 0, 1, 3, 2]);
        assert_eq!(randperm(&mut generator, 7), [1, 4, 0, 6, 5, 3, 2]);
        // torch.manual_seed(42); torch.randperm(100)[:8]
        assert_eq!(randperm(&mut NumpyRandom::new(42), 100)[..8], [42, 96, 62, 98, 46, 95, 60, 24]);
        assert!(randperm(&mut NumpyRandom::new(0), 0).is_empty());
    }
}
