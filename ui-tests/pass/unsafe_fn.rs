//! `unsafe fn` (in a crate that allows unsafe code): the body keeps its unsafe blocks.
#![deny(warnings)]

/// # Safety
/// `ptr` must be valid for reads.
#[telemetry::track("raw.read", capture(offset))]
unsafe fn read(ptr: *const u8, offset: usize) -> u8 {
    // SAFETY: the caller promises `ptr` is valid.
    unsafe { *ptr.add(offset) }
}

fn main() {
    let bytes = [1_u8, 2, 3];
    // SAFETY: in bounds.
    assert_eq!(unsafe { read(bytes.as_ptr(), 2) }, 3);
}
