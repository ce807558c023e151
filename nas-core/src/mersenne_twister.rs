//! MT19937, the Mersenne Twister that NumPy's legacy `RandomState`, PyTorch's CPU generator
//! and Python's `random` module all draw from, seeded either from one 32-bit integer (NumPy,
//! PyTorch) or from an array of 32-bit words (Python's `random.seed`). Reproducing their draws
//! lets nas check its randomised procedures against theirs value for value.

/// Words of MT19937's state.
const STATE: usize = 624;
/// The middle word's offset in the twist.
const SHIFT: usize = 397;

/// An MT19937 generator.
#[derive(Clone)]
pub struct MersenneTwister {
    state: [u32; STATE],
    next: usize,
}

impl MersenneTwister {
    /// The generator seeded from one integer (`init_genrand`: `np.random.seed(seed)`,
    /// `torch.manual_seed(seed)`).
    pub fn from_seed(seed: u32) -> MersenneTwister {
        let mut state = [0u32; STATE];
        state[0] = seed;
        for i in 1..STATE {
            let previous = state[i - 1];
            state[i] = 1_812_433_253u32.wrapping_mul(previous ^ (previous >> 30)).wrapping_add(i as u32);
        }
        MersenneTwister { state, next: STATE }
    }

    /// The generator seeded from an array of words (`init_by_array`: Python's
    /// `random.seed(n)` passes `|n|` split into 32-bit words, least significant first).
    pub fn from_key(key: &[u32]) -> MersenneTwister {
        let mut twister = MersenneTwister::from_seed(19_650_218);
        let state = &mut twister.state;
        let key: &[u32] = if key.is_empty() { &[0] } else { key };
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..STATE.max(key.len()) {
            let previous = state[i - 1];
            state[i] = (state[i] ^ (previous ^ (previous >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= STATE {
                state[0] = state[STATE - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..STATE - 1 {
            let previous = state[i - 1];
            state[i] = (state[i] ^ (previous ^ (previous >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= STATE {
                state[0] = state[STATE - 1];
                i = 1;
            }
        }
        state[0] = 0x8000_0000;
        twister
    }

    /// The next 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        if self.next >= STATE {
            self.twist();
        }
        let mut y = self.state[self.next];
        self.next += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A double in [0, 1) from 53 bits of the next two outputs (`np.random.random_sample()`,
    /// Python's `random.random()`).
    pub fn next_f64(&mut self) -> f64 {
        let high = f64::from(self.next_u32() >> 5);
        let low = f64::from(self.next_u32() >> 6);
        (high * 67_108_864.0 + low) / 9_007_199_254_740_992.0
    }

    fn twist(&mut self) {
        for i in 0..STATE {
            let y = (self.state[i] & 0x8000_0000) | (self.state[(i + 1) % STATE] & 0x7fff_ffff);
            let mut value = self.state[(i + SHIFT) % STATE] ^ (y >> 1);
            if y & 1 != 0 {
                value ^= 0x9908_b0df;
            }
            self.state[i] = value;
        }
        self.next = 0;
    }
}
