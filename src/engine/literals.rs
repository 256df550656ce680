//! The keyword pass: every occurrence of a set of literals (rule keywords, decoders' spellings of them) in
//! a blob, ASCII case ignored, overlapping occurrences included, in order of where they start.
//!
//! It replaced an Aho-Corasick automaton (overlapping search over one DFA of ~4,000 patterns), which ran at
//! about 200 MB/s and took half of a history scan's CPU, and whose construction was much of a pre-commit
//! hook's start-up. Each literal is anchored on its rarest pair of adjacent bytes (by a static table of
//! how common each byte is in source code); each position of the blob costs one bit test of its byte pair
//! (ASCII case folded) in an 8 KiB table that stays in L1, and only a set bit leads to comparing the
//! literals anchored there. Building is a counting sort of the literals: nothing grows with the input.
//! Single-byte literals (none of the built-in ones) take a second pass.

/// Case folding for the filter: `| 0x2020` maps `A`-`Z` onto `a`-`z` in both bytes of a pair (and a few
/// punctuation pairs onto each other, such as `_` onto DEL): a superset test, which the comparison of the
/// whole literal then decides.
const FOLD: u16 = 0x2020;
/// Buckets of the candidate lists (by a hash of the pair).
const BUCKET_BITS: u32 = 12;

/// The 512 most common byte pairs of source code (each byte `| 0x20`, as the filter folds them) with how
/// common each is on a log scale (255: every pair; 16 points halve the frequency), counted over the
/// working trees of two large open-source projects (Python and JavaScript); together 66% of all pairs, the
/// last 0.04%. Sorted by pair. Only used to pick each literal's rarest pair: a wrong guess costs speed,
/// never a hit.
#[rustfmt::skip]
const COMMON_PAIRS: [(u16, u8); 512] = [
    (0x2020, 196),
    (0x2021, 103),
    (0x2022, 106),
    (0x2023, 106),
    (0x2024, 89),
    (0x2025, 88),
    (0x2026, 92),
    (0x2027, 84),
    (0x2028, 99),
    (0x2029, 111),
    (0x202a, 137),
    (0x202c, 133),
    (0x202d, 85),
    (0x202e, 80),
    (0x2030, 80),
    (0x2038, 81),
    (0x203a, 145),
    (0x203d, 97),
    (0x203e, 76),
    (0x2060, 111),
    (0x2061, 83),
    (0x2064, 102),
    (0x2065, 119),
    (0x2066, 97),
    (0x2067, 88),
    (0x2068, 87),
    (0x206c, 85),
    (0x206d, 81),
    (0x206e, 111),
    (0x206f, 88),
    (0x2070, 93),
    (0x2072, 97),
    (0x2073, 118),
    (0x2074, 112),
    (0x2078, 75),
    (0x2079, 90),
    (0x20a0, 93),
    (0x20b0, 80),
    (0x20f0, 80),
    (0x20f8, 74),
    (0x20ff, 107),
    (0x2120, 126),
    (0x2121, 99),
    (0x2131, 89),
    (0x2135, 80),
    (0x2160, 87),
    (0x2220, 151),
    (0x2221, 75),
    (0x2222, 81),
    (0x2223, 91),
    (0x2230, 86),
    (0x2260, 90),
    (0x2261, 102),
    (0x2265, 108),
    (0x226c, 117),
    (0x226e, 106),
    (0x226f, 102),
    (0x2270, 81),
    (0x2273, 81),
    (0x227b, 126),
    (0x2320, 116),
    (0x2323, 76),
    (0x2326, 92),
    (0x2328, 85),
    (0x2420, 110),
    (0x2422, 78),
    (0x2520, 94),
    (0x2524, 75),
    (0x25a0, 79),
    (0x2620, 99),
    (0x2622, 103),
    (0x2626, 109),
    (0x2627, 91),
    (0x2634, 83),
    (0x2720, 110),
    (0x2726, 79),
    (0x2820, 118),
    (0x287d, 79),
    (0x2920, 81),
    (0x2a20, 76),
    (0x2a22, 76),
    (0x2a29, 107),
    (0x2a2a, 115),
    (0x2a2c, 101),
    (0x2a3a, 94),
    (0x2c22, 111),
    (0x2c7d, 117),
    (0x2d20, 84),
    (0x2d2d, 89),
    (0x2d30, 84),
    (0x2d33, 99),
    (0x2d65, 102),
    (0x2e30, 96),
    (0x2e31, 94),
    (0x2e32, 90),
    (0x2e33, 88),
    (0x2e34, 92),
    (0x2e36, 85),
    (0x2e62, 80),
    (0x2e64, 101),
    (0x2e73, 106),
    (0x2e79, 97),
    (0x2f2f, 110),
    (0x2f3a, 109),
    (0x2f67, 101),
    (0x2f6d, 79),
    (0x2f73, 103),
    (0x2f74, 101),
    (0x3020, 76),
    (0x302e, 104),
    (0x3030, 84),
    (0x3031, 87),
    (0x3032, 93),
    (0x3033, 75),
    (0x3034, 77),
    (0x3035, 77),
    (0x3036, 76),
    (0x3038, 76),
    (0x3062, 74),
    (0x3065, 82),
    (0x3069, 93),
    (0x3121, 92),
    (0x3123, 85),
    (0x312e, 102),
    (0x3130, 83),
    (0x3131, 91),
    (0x3132, 82),
    (0x3133, 94),
    (0x3134, 78),
    (0x3135, 82),
    (0x3137, 79),
    (0x3139, 74),
    (0x3161, 78),
    (0x3162, 75),
    (0x3163, 74),
    (0x3164, 76),
    (0x3165, 77),
    (0x3166, 79),
    (0x3169, 76),
    (0x3222, 74),
    (0x322e, 88),
    (0x3230, 91),
    (0x3231, 82),
    (0x3232, 80),
    (0x3233, 102),
    (0x3234, 80),
    (0x3236, 80),
    (0x3237, 76),
    (0x3239, 77),
    (0x3265, 75),
    (0x3266, 75),
    (0x332e, 78),
    (0x3330, 82),
    (0x3331, 92),
    (0x3332, 79),
    (0x3333, 84),
    (0x3335, 81),
    (0x3336, 96),
    (0x3337, 76),
    (0x3339, 77),
    (0x3361, 75),
    (0x3362, 75),
    (0x3363, 77),
    (0x3365, 74),
    (0x3366, 77),
    (0x3379, 96),
    (0x342e, 79),
    (0x3430, 84),
    (0x3431, 94),
    (0x3432, 81),
    (0x3433, 76),
    (0x3434, 82),
    (0x3435, 102),
    (0x3436, 85),
    (0x3437, 75),
    (0x3438, 79),
    (0x3439, 79),
    (0x3461, 76),
    (0x3462, 74),
    (0x3466, 79),
    (0x3521, 82),
    (0x3530, 75),
    (0x3531, 81),
    (0x3532, 83),
    (0x3533, 78),
    (0x3535, 86),
    (0x3536, 94),
    (0x3537, 82),
    (0x3539, 75),
    (0x3564, 75),
    (0x3565, 78),
    (0x3566, 79),
    (0x3630, 76),
    (0x3631, 85),
    (0x3632, 104),
    (0x3633, 79),
    (0x3634, 93),
    (0x3635, 83),
    (0x3636, 101),
    (0x3637, 76),
    (0x3638, 77),
    (0x3662, 74),
    (0x3663, 77),
    (0x3664, 78),
    (0x3666, 78),
    (0x3730, 75),
    (0x3731, 82),
    (0x3732, 78),
    (0x3733, 78),
    (0x3734, 75),
    (0x3735, 76),
    (0x3736, 88),
    (0x3737, 78),
    (0x3738, 76),
    (0x3739, 76),
    (0x3763, 74),
    (0x3820, 77),
    (0x3831, 83),
    (0x3832, 77),
    (0x3833, 77),
    (0x3834, 77),
    (0x3836, 76),
    (0x3839, 76),
    (0x3861, 74),
    (0x3862, 77),
    (0x3863, 75),
    (0x3930, 74),
    (0x3931, 81),
    (0x3932, 78),
    (0x3933, 80),
    (0x3934, 83),
    (0x3935, 77),
    (0x3936, 76),
    (0x3937, 76),
    (0x3939, 80),
    (0x3961, 75),
    (0x3963, 76),
    (0x3965, 75),
    (0x3a22, 140),
    (0x3a65, 86),
    (0x3a73, 114),
    (0x3d20, 95),
    (0x3e20, 85),
    (0x6020, 124),
    (0x60ff, 81),
    (0x6120, 115),
    (0x612d, 99),
    (0x6131, 76),
    (0x6138, 74),
    (0x6162, 86),
    (0x6163, 98),
    (0x6164, 116),
    (0x6165, 101),
    (0x6166, 90),
    (0x6168, 87),
    (0x616b, 104),
    (0x616c, 91),
    (0x616d, 98),
    (0x616e, 114),
    (0x616f, 100),
    (0x6170, 119),
    (0x6172, 106),
    (0x6173, 86),
    (0x6174, 126),
    (0x6176, 75),
    (0x617f, 79),
    (0x6220, 91),
    (0x6230, 77),
    (0x6232, 76),
    (0x6233, 75),
    (0x6234, 81),
    (0x6237, 75),
    (0x6261, 89),
    (0x6262, 75),
    (0x6263, 75),
    (0x6264, 78),
    (0x6265, 81),
    (0x6266, 76),
    (0x6275, 84),
    (0x6320, 106),
    (0x632d, 80),
    (0x632e, 85),
    (0x632f, 89),
    (0x6330, 76),
    (0x6333, 77),
    (0x6334, 74),
    (0x6337, 76),
    (0x6339, 81),
    (0x6361, 119),
    (0x6362, 74),
    (0x6363, 77),
    (0x6364, 74),
    (0x6365, 102),
    (0x6366, 76),
    (0x6369, 94),
    (0x636e, 90),
    (0x636f, 87),
    (0x6373, 82),
    (0x637f, 80),
    (0x6420, 103),
    (0x6422, 105),
    (0x6430, 75),
    (0x6431, 77),
    (0x6434, 75),
    (0x6436, 82),
    (0x6461, 123),
    (0x6464, 91),
    (0x6465, 120),
    (0x6466, 74),
    (0x6469, 82),
    (0x646e, 97),
    (0x646f, 79),
    (0x6520, 98),
    (0x652f, 99),
    (0x6530, 75),
    (0x6531, 86),
    (0x6534, 75),
    (0x6535, 75),
    (0x6537, 82),
    (0x6539, 74),
    (0x6562, 87),
    (0x6563, 104),
    (0x6564, 113),
    (0x6565, 81),
    (0x6566, 85),
    (0x6567, 117),
    (0x6568, 99),
    (0x6569, 87),
    (0x656b, 78),
    (0x656c, 122),
    (0x656d, 127),
    (0x656e, 111),
    (0x6570, 99),
    (0x6572, 124),
    (0x6573, 119),
    (0x6574, 129),
    (0x6575, 85),
    (0x6576, 114),
    (0x6620, 107),
    (0x662f, 105),
    (0x6631, 85),
    (0x6633, 74),
    (0x6635, 74),
    (0x6636, 78),
    (0x6637, 76),
    (0x6639, 78),
    (0x6661, 78),
    (0x6662, 78),
    (0x6663, 75),
    (0x6664, 75),
    (0x6665, 95),
    (0x6666, 81),
    (0x6669, 89),
    (0x666e, 105),
    (0x672f, 82),
    (0x6761, 111),
    (0x6765, 74),
    (0x6769, 80),
    (0x676e, 103),
    (0x6772, 106),
    (0x6820, 84),
    (0x6822, 105),
    (0x6828, 80),
    (0x6863, 95),
    (0x686e, 100),
    (0x6874, 123),
    (0x6877, 101),
    (0x6920, 114),
    (0x6961, 84),
    (0x6964, 82),
    (0x6966, 117),
    (0x6967, 93),
    (0x696c, 114),
    (0x696d, 92),
    (0x696e, 116),
    (0x6972, 95),
    (0x6973, 111),
    (0x6974, 118),
    (0x697f, 106),
    (0x6b63, 108),
    (0x6c20, 83),
    (0x6c61, 106),
    (0x6c62, 77),
    (0x6c63, 81),
    (0x6c65, 96),
    (0x6c68, 100),
    (0x6c69, 110),
    (0x6c6c, 91),
    (0x6c6e, 101),
    (0x6c6f, 83),
    (0x6c70, 82),
    (0x6c72, 105),
    (0x6c73, 97),
    (0x6c75, 90),
    (0x6d20, 88),
    (0x6d22, 102),
    (0x6d61, 113),
    (0x6d65, 83),
    (0x6d69, 84),
    (0x6d6d, 84),
    (0x6d6f, 106),
    (0x6d72, 79),
    (0x6e20, 99),
    (0x6e22, 103),
    (0x6e2d, 97),
    (0x6e61, 124),
    (0x6e65, 123),
    (0x6e69, 137),
    (0x6e6f, 142),
    (0x6e72, 79),
    (0x6e75, 117),
    (0x6e77, 100),
    (0x6f20, 93),
    (0x6f2e, 103),
    (0x6f63, 119),
    (0x6f64, 109),
    (0x6f66, 110),
    (0x6f68, 122),
    (0x6f69, 125),
    (0x6f6c, 110),
    (0x6f6e, 114),
    (0x6f70, 90),
    (0x6f72, 101),
    (0x6f73, 78),
    (0x6f74, 102),
    (0x7020, 109),
    (0x7022, 79),
    (0x702d, 99),
    (0x702e, 103),
    (0x702f, 106),
    (0x7061, 79),
    (0x7063, 77),
    (0x7065, 84),
    (0x706d, 87),
    (0x706f, 93),
    (0x7073, 97),
    (0x7074, 113),
    (0x7075, 78),
    (0x7079, 81),
    (0x70ff, 89),
    (0x7220, 104),
    (0x7261, 108),
    (0x7265, 127),
    (0x7266, 76),
    (0x7267, 81),
    (0x726f, 125),
    (0x7270, 88),
    (0x7274, 112),
    (0x7275, 114),
    (0x7320, 116),
    (0x7361, 102),
    (0x7365, 138),
    (0x7369, 97),
    (0x736c, 80),
    (0x736e, 107),
    (0x736f, 107),
    (0x7370, 110),
    (0x7372, 111),
    (0x7373, 90),
    (0x7374, 88),
    (0x7375, 86),
    (0x737f, 94),
    (0x7420, 113),
    (0x7461, 127),
    (0x7463, 94),
    (0x7465, 119),
    (0x7468, 113),
    (0x7469, 111),
    (0x746e, 127),
    (0x746f, 84),
    (0x7470, 91),
    (0x7472, 91),
    (0x7473, 125),
    (0x7474, 117),
    (0x7475, 89),
    (0x7479, 107),
    (0x747f, 76),
    (0x7520, 87),
    (0x7522, 103),
    (0x7527, 110),
    (0x7568, 83),
    (0x756f, 84),
    (0x7571, 77),
    (0x7572, 88),
    (0x7574, 82),
    (0x7620, 74),
    (0x7622, 100),
    (0x7665, 75),
    (0x7720, 86),
    (0x772e, 100),
    (0x776f, 104),
    (0x7865, 95),
    (0x7869, 86),
    (0x796e, 101),
    (0x7970, 121),
    (0x7972, 92),
    (0x7974, 89),
    (0x7b20, 130),
    (0x7d20, 74),
    (0x7d22, 118),
    (0x7d7d, 102),
    (0x7f64, 106),
    (0x7f65, 87),
    (0x7f6e, 83),
    (0x7f74, 94),
    (0x7f79, 75),
    (0xa020, 90),
    (0xa0ff, 97),
    (0xb0ff, 83),
    (0xf820, 75),
    (0xff20, 101),
    (0xffff, 106)
];

/// How common a pair not in [`COMMON_PAIRS`] is at most.
const RARE: u8 = 70;

/// A set of literals searched together. Pattern ids are the indices of the list it was built from.
#[derive(Clone, Debug)]
pub struct Literals {
    /// The literals, end to end (one allocation for thousands of keywords and decoder spellings, which
    /// a copy each made a fifth of the set's build), and where each ends.
    bytes: Vec<u8>,
    ends: Vec<u32>,
    /// One bit per folded byte pair that is some literal's anchor.
    bits: Box<[u64; 1024]>,
    /// Bucket `b` holds `anchors[start[b]..start[b + 1]]`.
    start: Vec<u32>,
    anchors: Vec<Anchor>,
    /// Single-byte literals by byte (both cases), when there are any.
    one: Option<Box<[Vec<u32>; 256]>>,
}

/// A literal's rarest byte pair (folded) and where in the literal it sits.
#[derive(Clone, Copy, Debug)]
struct Anchor {
    pair: u16,
    offset: u32,
    id: u32,
}

fn bucket(pair: u16) -> usize {
    (u32::from(pair).wrapping_mul(0x9E37_79B1) >> (32 - BUCKET_BITS)) as usize
}

fn folded_pair(a: u8, b: u8) -> u16 {
    u16::from_le_bytes([a, b]) | FOLD
}

/// The offset of `p`'s rarest pair of adjacent bytes (the first among equals); `p` has 2+ bytes.
fn rarest_pair(p: &[u8]) -> usize {
    let score = |i: usize| PAIR_SCORE[pair_slot(folded_pair(p[i], p[i + 1]))];
    (0..p.len() - 1).min_by_key(|&i| score(i)).unwrap_or(0)
}

/// [`COMMON_PAIRS`] as a table indexed by [`pair_slot`], [`RARE`] for the pairs it does not list; built
/// at compile time. A set's literals are scored pair by pair when the engine is built (thousands of
/// keywords at every start of a pre-commit hook): one load each instead of a binary search.
static PAIR_SCORE: [u8; 1 << 14] = {
    let mut table = [RARE; 1 << 14];
    let mut i = 0;
    while i < COMMON_PAIRS.len() {
        table[pair_slot(COMMON_PAIRS[i].0)] = COMMON_PAIRS[i].1;
        i += 1;
    }
    table
};

/// A folded pair's slot in [`PAIR_SCORE`]: the two bits [`FOLD`] sets in every folded pair dropped, so
/// the 14 that vary index the table.
const fn pair_slot(pair: u16) -> usize {
    ((squeeze(pair >> 8) << 7) | squeeze(pair & 0xff)) as usize
}

/// A byte with bit 5 set (`b` < 256), as the 7 bits that vary.
const fn squeeze(b: u16) -> u16 {
    (b & 0x1f) | ((b & 0xc0) >> 1)
}

/// `a == b`, ASCII case ignored (`a` and `b` of equal length). Cheaper than `eq_ignore_ascii_case` when,
/// as here, most candidates differ: a byte that differs by more than its case bit ends the loop.
fn same_ignoring_case(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(&x, &y)| x == y || ((x | 0x20) == (y | 0x20) && (x | 0x20).is_ascii_lowercase()))
}

impl Literals {
    /// Builds the set. Empty literals are never found.
    pub fn new<I, P>(patterns: I) -> Literals
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for p in patterns {
            bytes.extend_from_slice(p.as_ref());
            ends.push(u32::try_from(bytes.len()).expect("literals are shorter than 4 GiB"));
        }
        let mut bits = Box::new([0u64; 1024]);
        let mut anchors = Vec::new();
        let mut one: Option<Box<[Vec<u32>; 256]>> = None;
        let mut from = 0;
        for (id, &end) in ends.iter().enumerate() {
            let p = &bytes[from..end as usize];
            from = end as usize;
            let id = u32::try_from(id).expect("fewer than 2^32 literals");
            match p.len() {
                0 => {}
                1 => {
                    let table = one.get_or_insert_with(|| Box::new(std::array::from_fn(|_| Vec::new())));
                    table[p[0].to_ascii_lowercase() as usize].push(id);
                    if p[0].is_ascii_alphabetic() {
                        table[p[0].to_ascii_uppercase() as usize].push(id);
                    }
                }
                _ => {
                    let at = rarest_pair(p);
                    let pair = folded_pair(p[at], p[at + 1]);
                    bits[usize::from(pair >> 6)] |= 1 << (pair & 63);
                    anchors.push(Anchor {
                        pair,
                        offset: u32::try_from(at).expect("literals are shorter than 4 GiB"),
                        id,
                    });
                }
            }
        }
        let mut start = vec![0u32; (1 << BUCKET_BITS) + 1];
        for a in &anchors {
            start[bucket(a.pair) + 1] += 1;
        }
        for b in 1..start.len() {
            start[b] += start[b - 1];
        }
        let mut fill = start.clone();
        let mut sorted = anchors.clone();
        for a in anchors {
            let b = bucket(a.pair);
            sorted[fill[b] as usize] = a;
            fill[b] += 1;
        }
        Literals {
            bytes,
            ends,
            bits,
            start,
            anchors: sorted,
            one,
        }
    }

    /// The literal with id `id`.
    pub fn pattern(&self, id: usize) -> &[u8] {
        let start = match id.checked_sub(1) {
            Some(before) => self.ends[before] as usize,
            None => 0,
        };
        &self.bytes[start..self.ends[id] as usize]
    }

    /// How many literals the set holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every occurrence of every literal in `hay` (ASCII case ignored) as `(start, id)`, appended to `out`
    /// and sorted; the occurrence spans `start..start + pattern(id).len()`.
    pub fn find_all(&self, hay: &[u8], out: &mut Vec<(usize, usize)>) {
        let from = out.len();
        for (i, w) in hay.windows(2).enumerate() {
            let pair = folded_pair(w[0], w[1]);
            if self.bits[usize::from(pair >> 6)] & (1 << (pair & 63)) != 0 {
                self.confirm(hay, i, pair, out);
            }
        }
        if let Some(one) = &self.one {
            for (i, &b) in hay.iter().enumerate() {
                out.extend(one[b as usize].iter().map(|&id| (i, id as usize)));
            }
        }
        out[from..].sort_unstable();
    }

    /// The literals anchored on the pair at `i`, compared whole where they would start.
    #[cold]
    #[inline(never)]
    fn confirm(&self, hay: &[u8], i: usize, pair: u16, out: &mut Vec<(usize, usize)>) {
        let b = bucket(pair);
        for a in &self.anchors[self.start[b] as usize..self.start[b + 1] as usize] {
            if a.pair != pair {
                continue;
            }
            let Some(at) = i.checked_sub(a.offset as usize) else {
                continue;
            };
            let p = self.pattern(a.id as usize);
            if hay.get(at..at + p.len()).is_some_and(|h| same_ignoring_case(h, p)) {
                out.push((at, a.id as usize));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pair_table_scores_every_folded_pair_as_the_list_does() {
        let mut slots = std::collections::HashSet::new();
        for raw in 0..=u16::MAX {
            let pair = raw | FOLD;
            if pair != raw {
                continue;
            }
            assert!(slots.insert(pair_slot(pair)), "two pairs share a slot");
            let listed = COMMON_PAIRS
                .binary_search_by_key(&pair, |&(q, _)| q)
                .map_or(RARE, |k| COMMON_PAIRS[k].1);
            assert_eq!(PAIR_SCORE[pair_slot(pair)], listed, "pair {pair:#06x}");
        }
        assert_eq!(slots.len(), 1 << 14);
    }
    use aho_corasick::{AhoCorasickBuilder, MatchKind};
    use proptest::prelude::*;

    /// What the Aho-Corasick automaton it replaced reported: every overlapping occurrence, case ignored.
    fn reference(pats: &[Vec<u8>], hay: &[u8]) -> Vec<(usize, usize)> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(pats.iter().filter(|p| !p.is_empty()))
            .unwrap();
        let ids: Vec<usize> = (0..pats.len()).filter(|&i| !pats[i].is_empty()).collect();
        let mut out: Vec<(usize, usize)> = ac
            .find_overlapping_iter(hay)
            .map(|m| (m.start(), ids[m.pattern().as_usize()]))
            .collect();
        out.sort_unstable();
        out
    }

    fn ours(pats: &[Vec<u8>], hay: &[u8]) -> Vec<(usize, usize)> {
        let set = Literals::new(pats);
        let mut out = vec![(usize::MAX, 0)];
        set.find_all(hay, &mut out);
        // What was in the vector stays; the hits follow it, sorted.
        assert_eq!(out.remove(0), (usize::MAX, 0));
        assert!(out.windows(2).all(|w| w[0] < w[1]), "hits out of order or repeated");
        out
    }

    #[test]
    fn finds_overlapping_and_nested_literals_in_any_case() {
        let pats: Vec<Vec<u8>> = ["sk_", "sk_live_", "live", "pk", "x", "ive_", "PK_"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let hay = b"a SK_LIVE_1 pk_x";
        let found = ours(&pats, hay);
        assert_eq!(found, reference(&pats, hay));
        assert!(found.contains(&(2, 0)) && found.contains(&(2, 1)) && found.contains(&(5, 2)));
        assert!(found.contains(&(12, 3)) && found.contains(&(12, 6)) && found.contains(&(15, 4)));
    }

    #[test]
    fn folding_punctuation_does_not_make_false_hits() {
        // `_` | 0x20 is DEL and `@` | 0x20 is a backtick: the filter lets them through, the comparison not.
        let pats = vec![b"a_b_".to_vec(), b"@x".to_vec()];
        assert!(ours(&pats, b"a\x7fb\x7f `x").is_empty());
        assert_eq!(ours(&pats, b"A_B_ @X"), vec![(0, 0), (5, 1)]);
    }

    proptest! {
        /// Any literals, any bytes: the same occurrences as the overlapping automaton.
        #[test]
        fn agrees_with_aho_corasick(
            pats in prop::collection::vec(prop::collection::vec(prop::sample::select(b"aAbB_-@`\x7f1".to_vec()), 0..7), 1..12),
            hay in prop::collection::vec(prop::sample::select(b"aAbB_-@`\x7f1 \xff".to_vec()), 0..200),
        ) {
            prop_assert_eq!(ours(&pats, &hay), reference(&pats, &hay));
        }
    }
}
