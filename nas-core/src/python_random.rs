//! Python's `random.Random(seed)`: `random()`, `shuffle` and `choices` (without weights) as
//! CPython 3.11 draws them from its Mersenne Twister. Quantus builds Focus's mosaics with it,
//! so nas's mosaics for a seed are Quantus's.

use crate::mersenne_twister::MersenneTwister;

/// A generator in the state of Python's `random.Random(seed)`.
pub struct PythonRandom {
    engine: MersenneTwister,
}

impl PythonRandom {
    /// `random.Random(seed)` for a non-negative integer seed.
    pub fn new(seed: u64) -> PythonRandom {
        let words = [seed as u32, (seed >> 32) as u32];
        let key: &[u32] = if words[1] == 0 { &words[..1] } else { &words };
        PythonRandom {
            engine: MersenneTwister::from_key(key),
        }
    }

    /// `random.random()`: a double in [0, 1).
    pub fn random(&mut self) -> f64 {
        self.engine.next_f64()
    }

    /// `getrandbits(k)` for `k` in 1..=32.
    fn bits(&mut self, k: u32) -> u32 {
        self.engine.next_u32() >> (32 - k)
    }

    /// `_randbelow(n)`: an integer in `0..n` (`n` >= 1) by rejection from `n.bit_length()` bits.
    pub fn below(&mut self, n: u32) -> u32 {
        let k = 32 - n.leading_zeros();
        loop {
            let r = self.bits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `random.shuffle(items)`: Fisher-Yates from the end.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below((i + 1) as u32) as usize;
            items.swap(i, j);
        }
    }

    /// `random.choices(range(n), k=k)`: `k` indices drawn with replacement.
    pub fn choices(&mut self, n: usize, k: usize) -> Vec<usize> {
        (0..k).map(|_| (self.random() * n as f64).floor() as usize).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::PythonRandom;

    #[test]
    fn draws_are_cpythons() {
        // import random; r = random.Random(42); [r.random() for _ in range(2)]
        let mut r = PythonRandom::new(42);
        assert_eq!(r.random(), 0.6394267984578837);
        assert_eq!(r.random(), 0.025010755222666936);
        // r = random.Random(7); x = list(range(10)); r.shuffle(x); x, r.choices(range(5), k=4)
        let mut r = PythonRandom::new(7);
        let mut x: Vec<usize> = (0..10).collect();
        r.shuffle(&mut x);
        assert_eq!(x, [8, 3, 1, 4, 7, 0, 9, 6, 2, 5]);
        assert_eq!(r.choices(5, 4), [4, 1, 0, 2]);
        // random.Random(2**40 + 3).random(): a seed of two words.
        assert_eq!(PythonRandom::new((1 << 40) + 3).random(), 0.21978710637116716);
    }
}
