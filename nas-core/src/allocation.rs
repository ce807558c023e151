//! Tuning of glibc's allocator for buffers of tens of megabytes, which a program embedding nas
//! calls once at start-up (the `nas` binary does).
//!
//! A batch's feature maps are 10-32 MB each. By default glibc maps such buffers afresh for every
//! pass (or returns freed heap memory to the system at once), so each pass page-faults them in
//! again: a third of a ResNet-18 gradient pass on 2 cores (docs/performance.md). Keeping buffers
//! up to 32 MB on the heap and the freed heap mapped removes most of it. Settings the user made
//! with `GLIBC_TUNABLES` or `MALLOC_*_` variables are left alone. The allocator stays glibc's, which dynamic plugins share: memory they allocate is freed
//! by the host and the other way round, so another global allocator is not an option.

/// Keeps buffers up to 32 MB on the heap and freed heap memory mapped, unless the user tuned
/// glibc's allocator through the environment. Returns whether glibc took every setting.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn keep_large_buffers() -> bool {
    let tuned_by_user = std::env::vars_os().any(|(name, _)| {
        let name = name.to_string_lossy();
        name == "GLIBC_TUNABLES" || (name.starts_with("MALLOC_") && name.ends_with('_'))
    });
    if tuned_by_user {
        return false;
    }
    // SAFETY: mallopt only changes glibc's allocation parameters and takes plain integers.
    let settings = unsafe {
        [
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20),
            libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX),
            libc::mallopt(libc::M_TOP_PAD, 64 << 20),
        ]
    };
    settings.iter().all(|&accepted| accepted == 1)
}

/// Does nothing where the allocator is not glibc's; returns false.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_large_buffers() -> bool {
    false
}
