//! Random UUIDs (v4) for event ids, the session id and the install id, from the
//! operating system's generator read in blocks.
//!
//! An event id per event made one `getrandom` call per event the worker's largest cost;
//! a user-space generator (rand's ChaCha) fixed that but brought `rand` and its
//! dependencies into every build. Reading 4 KiB of OS randomness at a time (256 ids per
//! system call, per thread) costs about as little and needs nothing but `getrandom`,
//! which the library has anyway.

use std::cell::RefCell;

use crate::util::uuid::Uuid;

/// Bytes read from the OS per refill.
const BLOCK: usize = 4096;

struct Pool {
    bytes: Box<[u8; BLOCK]>,
    /// The next unused byte (`BLOCK`: empty).
    next: usize,
}

impl Pool {
    fn new() -> Self {
        Self {
            bytes: Box::new([0; BLOCK]),
            next: BLOCK,
        }
    }

    fn take16(&mut self) -> Option<[u8; 16]> {
        if self.next + 16 > BLOCK {
            getrandom::fill(&mut self.bytes[..]).ok()?;
            self.next = 0;
        }
        let mut out = [0; 16];
        out.copy_from_slice(&self.bytes[self.next..self.next + 16]);
        // Used bytes are not kept: a later read of the pool cannot see an earlier id.
        self.bytes[self.next..self.next + 16].fill(0);
        self.next += 16;
        Some(out)
    }
}

/// A random (version 4) UUID.
///
/// If the OS gives no randomness (it essentially never fails where it exists), the id
/// is derived from the time, the process id and a counter through SHA-256: still unique
/// and unlinkable to anything, only not unpredictable.
pub(crate) fn uuid_v4() -> Uuid {
    thread_local! {
        static POOL: RefCell<Pool> = RefCell::new(Pool::new());
    }
    let bytes = POOL
        .try_with(|pool| pool.borrow_mut().take16())
        .ok()
        .flatten()
        .unwrap_or_else(fallback_bytes);
    Uuid::from_random_bytes(bytes)
}

/// A uniformly random number in [0, 1) (53 random bits).
#[cfg(feature = "reports")]
pub(crate) fn unit_f64() -> f64 {
    let bytes = uuid_v4().into_bytes();
    let mut word = [0; 8];
    // The first six bytes of a v4 UUID are all random.
    word[..6].copy_from_slice(&bytes[..6]);
    word[6] = bytes[8] & 0x3f; // the variant's two bits left out
    word[7] = bytes[9];
    let bits = u64::from_le_bytes(word) & ((1 << 53) - 1);
    bits as f64 / (1_u64 << 53) as f64
}

fn fallback_bytes() -> [u8; 16] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut hasher = hmac_sha256::Hash::new();
    hasher.update(nanos.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let digest = hasher.finalize();
    let mut out = [0; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_version_4_and_distinct_across_refills_and_threads() {
        let mut seen = HashSet::new();
        // More than one block's worth, on two threads.
        let other = std::thread::spawn(|| (0..600).map(|_| uuid_v4()).collect::<Vec<_>>());
        for id in (0..600).map(|_| uuid_v4()).chain(other.join().unwrap()) {
            let checked = uuid::Uuid::parse_str(&id.to_string()).unwrap();
            assert_eq!(checked.get_version_num(), 4, "{id}");
            assert_eq!(checked.get_variant(), uuid::Variant::RFC4122, "{id}");
            assert!(seen.insert(id), "repeated {id}");
        }
    }

    #[cfg(feature = "reports")]
    #[test]
    fn unit_draws_are_in_range_and_spread() {
        let draws: Vec<f64> = (0..4000).map(|_| unit_f64()).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        let below_tenth = draws.iter().filter(|&&x| x < 0.1).count();
        // Binomial(4000, 0.1): mean 400, sd 19; ±6 sd.
        assert!((286..=514).contains(&below_tenth), "{below_tenth}");
    }

    #[test]
    fn the_fallback_is_distinct_too() {
        let a = fallback_bytes();
        let b = fallback_bytes();
        assert_ne!(a, b);
    }
}
