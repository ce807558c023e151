//! Marks the work that gradients will flow through, so that layers with faster inference-only
//! kernels (which burn cannot differentiate) use burn's differentiable operations there instead.
//!
//! [`Backbone::input_gradient`](crate::Backbone::input_gradient) and
//! [`Backbone::level_gradient`](crate::Backbone::level_gradient) open a scope around their forward
//! pass; code that calls `backward` on a backbone's output itself must do the same.

use std::cell::Cell;
use std::marker::PhantomData;

thread_local! {
    static OPEN_SCOPES: Cell<usize> = const { Cell::new(0) };
}

/// While alive, [`is_differentiable`] is true on this thread. Scopes nest.
#[must_use = "the scope ends when this value is dropped"]
pub struct DifferentiableScope {
    /// The scope belongs to the thread that opened it.
    _same_thread: PhantomData<*const ()>,
}

/// Opens a scope in which forward passes must stay differentiable.
pub fn differentiable() -> DifferentiableScope {
    OPEN_SCOPES.with(|n| n.set(n.get() + 1));
    DifferentiableScope { _same_thread: PhantomData }
}

impl Drop for DifferentiableScope {
    fn drop(&mut self) {
        OPEN_SCOPES.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// Whether the current thread is inside a [`differentiable`] scope.
pub fn is_differentiable() -> bool {
    OPEN_SCOPES.with(|n| n.get() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_end_when_dropped() {
        assert!(!is_differentiable());
        let outer = differentiable();
        {
            let _inner = differentiable();
            assert!(is_differentiable());
        }
        assert!(is_differentiable(), "the outer scope is still open");
        drop(outer);
        assert!(!is_differentiable());
        let other_thread = std::thread::spawn(is_differentiable);
        let _scope = differentiable();
        assert!(!other_thread.join().unwrap_or(true), "scopes are per thread");
    }
}
