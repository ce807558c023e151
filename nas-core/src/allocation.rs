//! Tuning of glibc's allocator for buffers of tens of megabytes, which a program embedding nas
//! calls once at start-up (the `nas` binary does).
//!
//! A batch's feature maps are 10-32 MB each. By default glibc maps such buffers afresh for every
//! pass (or returns freed heap memory to the system at once), so each pass page-faults them in
//! again: a third of a ResNet-18 gradient pass on 2 cores (docs/performance.md). Keeping buffers
//! up to 32 MB (glibc's largest setting) on the heap and the freed heap mapped removes most of
//! it. The allocator stays glibc's, which dynamic plugins share: memory they allocate is freed
//! by the host and the other way round, so another global allocator is not an option.

/// Keeps buffers up to 32 MB on the heap and freed heap memory mapped. Returns whether glibc
/// accepted every setting.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn keep_large_buffers() -> bool {
    // SAFETY: mallopt only changes glibc's allocation parameters and takes plain integers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) == 1
            && libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) == 1
            && libc::mallopt(libc::M_TOP_PAD, 256 << 20) == 1
    }
}

/// Does nothing where the allocator is not glibc's; returns false.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_large_buffers() -> bool {
    false
}
