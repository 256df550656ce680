//! Hash maps keyed by git object ids, without SipHash.
//!
//! An object id is already a SHA-1 digest, so hashing its 20 bytes again through SipHash (the standard
//! map's default) was pure cost in the history walk, which keys maps by commit, tree and blob id for
//! every commit of the repository. [`OidHasher`] takes the id's first eight bytes and folds them through
//! one 128-bit multiply with a per-process random key. The key matters: ids come from the scanned
//! repository, which is untrusted, and an attacker who can grind ids that share the low bits a plain
//! identity hash would use could make every lookup a long probe; with the key they cannot tell which
//! ids will share a bucket. Grinding a full 64-bit prefix collision, the only thing the key does not
//! hide, costs 2^64 hashes per id.

use std::{
    collections::{HashMap, HashSet},
    hash::{BuildHasher, Hasher},
    sync::OnceLock,
};

use git2::Oid;

/// A map keyed by object id.
pub type OidMap<V> = HashMap<Oid, V, OidState>;
/// A set of object ids.
pub type OidSet = HashSet<Oid, OidState>;

/// Builds [`OidHasher`]s with the process's key.
#[derive(Clone, Copy, Debug)]
pub struct OidState {
    key: u64,
}

impl Default for OidState {
    fn default() -> Self {
        static KEY: OnceLock<u64> = OnceLock::new();
        // The standard library's random per-process keys, drawn once from the operating system.
        let key = *KEY.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0x6b6579u64));
        OidState { key }
    }
}

impl BuildHasher for OidState {
    type Hasher = OidHasher;

    fn build_hasher(&self) -> OidHasher {
        OidHasher {
            key: self.key,
            state: 0,
        }
    }
}

/// Hashes an object id (`Oid` hashes its 20 bytes as one slice, after their length) from its first
/// eight bytes; anything else hashed into it still mixes in, so it stays a correct hasher for any key.
#[derive(Debug)]
pub struct OidHasher {
    key: u64,
    state: u64,
}

/// An odd constant with well-spread bits (from the digits of pi), for the folded multiply.
const MULTIPLIER: u64 = 0x243f_6a88_85a3_08d3;

impl Hasher for OidHasher {
    fn write(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(8);
        let mut word = [0u8; 8];
        word[..n].copy_from_slice(&bytes[..n]);
        self.state ^= u64::from_le_bytes(word);
        if bytes.len() > 8 {
            // Keys shorter than an id or longer than its prefix still differ by more than the prefix.
            self.state = self.state.rotate_left(5) ^ bytes.len() as u64;
        }
    }

    fn write_usize(&mut self, n: usize) {
        // The length prefix of a slice; an id's is always 20, so it adds nothing there.
        self.state = self.state.rotate_left(7) ^ n as u64;
    }

    fn finish(&self) -> u64 {
        let product = u128::from(self.state ^ self.key) * u128::from(MULTIPLIER);
        (product as u64) ^ ((product >> 64) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(first: u64, rest: u8) -> Oid {
        let mut b = [rest; 20];
        b[..8].copy_from_slice(&first.to_le_bytes());
        Oid::from_bytes(&b).expect("20 bytes make an id")
    }

    #[test]
    fn ids_with_different_prefixes_hash_apart_and_maps_work() {
        let s = OidState::default();
        assert_ne!(s.hash_one(oid(1, 0)), s.hash_one(oid(2, 0)));
        // The same prefix with a different tail is a collision of the hash, never of the map.
        let mut map: OidMap<u32> = OidMap::default();
        map.insert(oid(7, 1), 1);
        map.insert(oid(7, 2), 2);
        assert_eq!(map.get(&oid(7, 1)), Some(&1));
        assert_eq!(map.get(&oid(7, 2)), Some(&2));
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn ids_that_share_low_bits_spread_over_buckets() {
        // Ids ground to share their first four bytes (what an identity hash would bucket on) still land
        // in many different buckets of a 4096-slot table.
        let s = OidState::default();
        let buckets: HashSet<u64> = (0..4096u64).map(|i| s.hash_one(oid(i << 32, 0)) & 4095).collect();
        assert!(buckets.len() > 2000, "only {} of 4096 buckets used", buckets.len());
    }
}
