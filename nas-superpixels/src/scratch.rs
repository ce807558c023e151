//! Per-thread reuse of large work buffers.
//!
//! Every call needs several buffers of a few bytes per pixel or edge. Fresh
//! allocations that large come from the operating system as untouched pages,
//! and the first write to each page costs a page fault: on the test machine
//! about a quarter of a 224x224 Felzenszwalb call. XRAI runs Felzenszwalb at
//! six scales per image, so the buffers of one call are kept for the next
//! call on the same thread instead: at most [`MAX_KEPT`] buffers and
//! [`MAX_KEPT_BYTES`] per element type (`f64`, `u64`, `u32`) and thread,
//! enough for photos of about 0.4 megapixels. Results never depend on this
//! reuse.

use std::cell::RefCell;

/// Most bytes kept per element type and thread; buffers that would exceed it
/// are freed.
const MAX_KEPT_BYTES: usize = 48 << 20;

/// Buffers kept per element type and thread.
const MAX_KEPT: usize = 6;

/// An element type with a per-thread pool of spare buffers.
pub(crate) trait Pooled: Copy + Default + 'static {
    /// Runs `f` on this type's pool for the current thread.
    fn with_pool<R>(f: impl FnOnce(&mut Vec<Vec<Self>>) -> R) -> R;
}

macro_rules! pooled {
    ($($t:ty => $pool:ident),*) => {
        thread_local! {
            $(static $pool: RefCell<Vec<Vec<$t>>> = const { RefCell::new(Vec::new()) };)*
        }
        $(impl Pooled for $t {
            fn with_pool<R>(f: impl FnOnce(&mut Vec<Vec<Self>>) -> R) -> R {
                $pool.with(|pool| f(&mut pool.borrow_mut()))
            }
        })*
    };
}

pooled!(f64 => F64_POOL, u64 => U64_POOL, u32 => U32_POOL);

/// A buffer of `len` default values, reusing a kept one when there is one.
pub(crate) fn take<T: Pooled>(len: usize) -> Vec<T> {
    let mut buf = T::with_pool(|pool| {
        // The smallest kept buffer that is large enough, else the largest.
        let best = (0..pool.len())
            .filter(|&i| pool[i].capacity() >= len)
            .min_by_key(|&i| pool[i].capacity())
            .or_else(|| (0..pool.len()).max_by_key(|&i| pool[i].capacity()));
        best.map(|i| pool.swap_remove(i)).unwrap_or_default()
    });
    buf.clear();
    buf.resize(len, T::default());
    buf
}

/// Hands a buffer back for later calls on this thread.
pub(crate) fn give<T: Pooled>(buf: Vec<T>) {
    let bytes = |b: &Vec<T>| b.capacity() * std::mem::size_of::<T>();
    T::with_pool(|pool| {
        let kept: usize = pool.iter().map(bytes).sum();
        if pool.len() < MAX_KEPT && kept + bytes(&buf) <= MAX_KEPT_BYTES {
            pool.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_zeroed_and_reused() {
        let mut a = take::<u32>(1000);
        assert!(a.iter().all(|&v| v == 0));
        a.fill(7);
        let ptr = a.as_ptr();
        give(a);
        let b = take::<u32>(500);
        assert_eq!(b.len(), 500);
        assert!(b.iter().all(|&v| v == 0));
        assert_eq!(b.as_ptr(), ptr);
        give(b);
    }
}
