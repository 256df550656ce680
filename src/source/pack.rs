//! Reading blobs straight out of the repository's pack files, in pack order, with a cache of delta bases.
//!
//! libgit2 reads one object at a time: every blob stored as a delta rebuilds its chain from the nearest
//! base its small cache still holds, so a history scan inflated the same bases again and again (on
//! rails, 51 s of CPU where `git cat-file --batch-all-objects` needs 19 s on one core). Git writes a
//! delta family next to each other in the pack, base first, so reading the wanted blobs by pack offset
//! and keeping each worker's recently built objects finds almost every base already built: each object
//! is inflated about once.
//!
//! Only what this reader is sure of is read here: version-2 pack indexes with SHA-1 ids, entries that
//! are whole objects or offset deltas inside the same pack. Anything else (a loose object, an object
//! only an alternate, a v1 index or a missing promisor object has, a delta against an object by id, a
//! damaged entry) is reported as [`PackError`], and the caller reads that blob through libgit2, which
//! names the problem the same way it always has. Nothing here panics on a hostile pack: every offset and
//! size is checked, and sizes a header claims are never trusted for an allocation.

use std::{
    cmp::Ordering,
    collections::{HashMap, VecDeque},
    fs::File,
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use git2::Oid;
use libdeflater::{DecompressionError, Decompressor};

use super::oid::OidState;

/// Why a blob was not read from a pack; the caller falls back to libgit2.
#[derive(Debug, PartialEq, Eq)]
pub enum PackError {
    /// The entry is a delta against a base named by id (`REF_DELTA`): left to libgit2.
    RefDelta,
    /// A pack file could not be opened or read.
    Io(String),
    /// The entry's bytes do not decode (bad header, zlib stream, delta or size).
    Corrupt(&'static str),
}

/// Where a blob sits: which pack of the [`PackSet`] and at what offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub pack: u32,
    pub offset: u64,
}

/// The packs of a repository (and of its alternates): each pack's path, its index while ids are still
/// being looked up, and the sorted offsets of its entries, which bound every entry's bytes.
pub struct PackSet {
    packs: Vec<PackFile>,
    /// Parallel to `packs`; emptied by [`PackSet::drop_indexes`] once no more ids will be looked up.
    indexes: Vec<PackIndex>,
}

struct PackFile {
    path: PathBuf,
    /// Entry offsets, ascending, then the end of the entry data (the file length minus its trailer).
    bounds: Vec<u64>,
}

/// How many levels of `objects/info/alternates` are followed (git's own limit is 5).
const ALTERNATE_DEPTH: usize = 5;

impl PackSet {
    /// Reads the pack indexes under `git_dir` and its alternates; a pack whose index or header this
    /// reader does not understand is left out (its objects are then read through libgit2).
    pub fn open(git_dir: &Path) -> PackSet {
        let mut dirs = Vec::new();
        object_dirs(&git_dir.join("objects"), 0, &mut dirs);
        let mut set = PackSet {
            packs: Vec::new(),
            indexes: Vec::new(),
        };
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(dir.join("pack")) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                .collect();
            files.sort();
            for idx_path in files {
                let pack_path = idx_path.with_extension("pack");
                let Some(index) = std::fs::read(&idx_path).ok().and_then(PackIndex::parse) else {
                    continue;
                };
                let Some(bounds) = index.bounds(&pack_path) else {
                    continue;
                };
                set.indexes.push(index);
                set.packs.push(PackFile {
                    path: pack_path,
                    bounds,
                });
            }
        }
        set
    }

    /// The bytes of every pack file under `git_dir` and its alternates (what [`PackSet::open`] would
    /// read), without reading their indexes: a cheap measure of how large a history scan will be.
    pub fn pack_bytes(git_dir: &Path) -> u64 {
        let mut dirs = Vec::new();
        object_dirs(&git_dir.join("objects"), 0, &mut dirs);
        dirs.iter()
            .filter_map(|dir| std::fs::read_dir(dir.join("pack")).ok())
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    }

    /// Where `id` sits; `None` for an object no usable index lists (loose, missing, or looked up after
    /// [`PackSet::drop_indexes`]).
    pub fn locate(&self, id: &Oid) -> Option<Location> {
        self.indexes.iter().enumerate().find_map(|(n, idx)| {
            let offset = idx.find(id.as_bytes())?;
            Some(Location {
                pack: u32::try_from(n).ok()?,
                offset,
            })
        })
    }

    /// Frees the indexes (tens of MB on a large repository) once every wanted id is located.
    pub fn drop_indexes(&mut self) {
        self.indexes = Vec::new();
    }

    /// Opens the packs of `git_dir` and locates each of `ids`, keeping only what reading needs.
    pub fn load<'a>(git_dir: &Path, ids: impl Iterator<Item = &'a Oid>) -> (PackSet, Vec<Option<Location>>) {
        let mut set = PackSet::open(git_dir);
        let located = ids.map(|id| set.locate(id)).collect();
        set.drop_indexes();
        (set, located)
    }

    /// A reader whose delta-base cache holds at most `bytes` (a walk over small trees needs less than a
    /// blob scan).
    pub fn reader_with_cache(&self, bytes: usize) -> PackReader<'_> {
        let mut r = self.reader();
        r.cache.limit = bytes.max(1);
        r
    }

    /// A reader for one worker thread (file handles, read window, delta-base cache).
    pub fn reader(&self) -> PackReader<'_> {
        PackReader {
            set: self,
            files: (0..self.packs.len()).map(|_| None).collect(),
            window: Window::default(),
            scratch: Vec::new(),
            cache: BaseCache::default(),
            inflate: Decompressor::new(),
            spare: Vec::new(),
            blocks: None,
            last_delta: None,
            changes: Vec::new(),
        }
    }

    /// A reader for objects looked up by id (commits, trees), with a delta-base cache of at most `bytes`:
    /// it reads the pack in aligned blocks and keeps the last few (see [`Blocks`]).
    pub fn lookup_reader(&self, bytes: usize) -> PackReader<'_> {
        let mut r = self.reader_with_cache(bytes);
        r.blocks = Some(Blocks::default());
        r
    }
}

/// Readers kept between parallel jobs: rayon runs a batch as several jobs per thread, and a reader that
/// outlives its job keeps its cache of built objects (the next job's bases) and its open files.
pub struct ReaderPool<'s> {
    set: &'s PackSet,
    free: Mutex<Vec<PackReader<'s>>>,
    /// Readers made by [`PackSet::lookup_reader`] with this cache budget, rather than [`PackSet::reader`].
    lookups: Option<usize>,
}

impl<'s> ReaderPool<'s> {
    pub fn new(set: &'s PackSet) -> ReaderPool<'s> {
        ReaderPool {
            set,
            free: Mutex::new(Vec::new()),
            lookups: None,
        }
    }

    /// A pool of readers for objects looked up by id ([`PackSet::lookup_reader`]).
    pub fn for_lookups(set: &'s PackSet, cache_bytes: usize) -> ReaderPool<'s> {
        ReaderPool {
            lookups: Some(cache_bytes),
            ..ReaderPool::new(set)
        }
    }

    fn make(&self) -> PackReader<'s> {
        match self.lookups {
            Some(bytes) => self.set.lookup_reader(bytes),
            None => self.set.reader(),
        }
    }

    /// A reader for the calling job, back in the pool when dropped.
    pub fn get(&self) -> PooledReader<'_, 's> {
        let reader = self
            .free
            .lock()
            .ok()
            .and_then(|mut free| free.pop())
            .unwrap_or_else(|| self.make());
        PooledReader {
            pool: self,
            reader: Some(reader),
        }
    }
}

/// A reader borrowed from a [`ReaderPool`].
pub struct PooledReader<'p, 's> {
    pool: &'p ReaderPool<'s>,
    reader: Option<PackReader<'s>>,
}

impl<'s> PooledReader<'_, 's> {
    pub fn reader(&mut self) -> &mut PackReader<'s> {
        self.reader.get_or_insert_with(|| self.pool.make())
    }
}

impl Drop for PooledReader<'_, '_> {
    fn drop(&mut self) {
        if let (Some(r), Ok(mut free)) = (self.reader.take(), self.pool.free.lock()) {
            free.push(r);
        }
    }
}

/// `objects` and every directory its `info/alternates` names, recursively.
fn object_dirs(objects: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > ALTERNATE_DEPTH || out.iter().any(|d| d == objects) {
        return;
    }
    out.push(objects.to_path_buf());
    let Ok(text) = std::fs::read_to_string(objects.join("info/alternates")) else {
        return;
    };
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        // Quoted (C-style escaped) paths are rare; libgit2 still reads those objects one by one.
        if line.starts_with('"') {
            continue;
        }
        object_dirs(&objects.join(line), depth + 1, out);
    }
}

/// A version-2 pack index: 256 fan-out counts, sorted ids, CRCs, 31-bit offsets, large offsets.
struct PackIndex {
    data: Vec<u8>,
    count: usize,
    /// `fan[p]`: how many ids sort before the two-byte prefix `p` (65,537 entries). The file's own
    /// fan-out by first byte leaves thousands of ids per step on a large repository, so every lookup was
    /// a dozen cache misses across the id table; this one leaves a few dozen.
    fan: Vec<u32>,
}

impl PackIndex {
    const HEADER: usize = 8 + 256 * 4;

    fn parse(data: Vec<u8>) -> Option<PackIndex> {
        if data.get(..8)? != b"\xfftOc\x00\x00\x00\x02" {
            return None;
        }
        let last = data.get(Self::HEADER - 4..Self::HEADER)?;
        let count = u32::from_be_bytes(last.try_into().ok()?) as usize;
        // ids, CRCs, 31-bit offsets and the two trailing checksums must all be there.
        let need = Self::HEADER.checked_add(count.checked_mul(28)?)?.checked_add(40)?;
        if data.len() < need || u32::try_from(count).is_err() {
            return None;
        }
        let mut fan = vec![0u32; 65_537];
        for id in data.get(Self::HEADER..Self::HEADER + count * 20)?.chunks_exact(20) {
            fan[usize::from(u16::from_be_bytes([id[0], id[1]])) + 1] += 1;
        }
        for p in 1..fan.len() {
            fan[p] += fan[p - 1];
        }
        Some(PackIndex { data, count, fan })
    }

    fn id(&self, i: usize) -> &[u8] {
        let at = Self::HEADER + i * 20;
        &self.data[at..at + 20]
    }

    fn offset(&self, i: usize) -> Option<u64> {
        let at = Self::HEADER + self.count * 24 + i * 4;
        let v = u32::from_be_bytes(self.data.get(at..at + 4)?.try_into().ok()?);
        if v & 0x8000_0000 == 0 {
            return Some(u64::from(v));
        }
        let big = Self::HEADER + self.count * 28 + (v & 0x7FFF_FFFF) as usize * 8;
        Some(u64::from_be_bytes(self.data.get(big..big + 8)?.try_into().ok()?))
    }

    fn find(&self, id: &[u8]) -> Option<u64> {
        // The two-byte fan-out narrows the search to the ids that share the first two bytes.
        let p = usize::from(u16::from_be_bytes([*id.first()?, *id.get(1)?]));
        let mut lo = *self.fan.get(p)? as usize;
        let mut hi = (*self.fan.get(p + 1)? as usize).min(self.count);
        // Ids compare by their first eight bytes as one big-endian number (the whole id only when those
        // are equal): a call to `memcmp` per step was most of the cost of a lookup.
        let prefix = |b: &[u8]| b.get(..8).and_then(|p| p.try_into().ok()).map(u64::from_be_bytes);
        let want = prefix(id)?;
        while lo < hi {
            let mid = (lo + hi) / 2;
            let here = self.id(mid);
            match prefix(here)?.cmp(&want).then_with(|| here.cmp(id)) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return self.offset(mid),
            }
        }
        None
    }

    /// Sorted entry offsets plus the end of the entry data, after checking that the pack file is there,
    /// is a version 2 or 3 pack and holds as many entries as the index lists.
    fn bounds(&self, pack: &Path) -> Option<Vec<u64>> {
        let file = File::open(pack).ok()?;
        let len = file.metadata().ok()?.len();
        let mut header = [0u8; 12];
        file.read_exact_at(&mut header, 0).ok()?;
        let version = u32::from_be_bytes(header[4..8].try_into().ok()?);
        let count = u32::from_be_bytes(header[8..12].try_into().ok()?) as usize;
        if &header[..4] != b"PACK" || !(2..=3).contains(&version) || count != self.count {
            return None;
        }
        let end = len.checked_sub(20)?;
        let mut bounds: Vec<u64> = (0..self.count).map(|i| self.offset(i)).collect::<Option<_>>()?;
        bounds.sort_unstable();
        if bounds.first().is_some_and(|&o| o < 12) || bounds.last().is_some_and(|&o| o >= end) {
            return None;
        }
        bounds.push(end);
        Some(bounds)
    }
}

/// How much of a pack one worker reads at a time when it moves forward through it.
const WINDOW: usize = 4 << 20;
/// How many bytes of built objects one worker keeps as possible delta bases.
const CACHE_BYTES: usize = 12 << 20;
/// Objects larger than this are not kept as bases (they would push out a whole family of small ones).
const CACHE_MAX_OBJECT: usize = 4 << 20;
/// A delta chain longer than this is treated as damage (git's own default depth is 50, `--aggressive`
/// 250; a cycle in a hostile pack must end somewhere).
const MAX_CHAIN: usize = 10_000;
/// Deflate cannot expand a byte into more than about 1032, so a header that claims more than this many
/// bytes per compressed byte lies, and its size is not used to allocate.
const MAX_RATIO: u64 = 1100;

#[derive(Default)]
struct Window {
    pack: usize,
    start: u64,
    buf: Vec<u8>,
    /// How much the next refill reads.
    ahead: usize,
}

/// A built object: its type and bytes.
type Built = (u8, Arc<Vec<u8>>);

/// Recently built objects by (pack, offset), oldest evicted first past [`CACHE_BYTES`].
#[derive(Default)]
struct BaseCache {
    /// Keyed by (pack, offset) through the object-id hasher (SipHash was a tenth of a tree walk's time).
    map: HashMap<(usize, u64), Built, OidState>,
    order: VecDeque<(usize, u64)>,
    bytes: usize,
    /// The cache's budget; 0 means [`CACHE_BYTES`].
    limit: usize,
}

impl BaseCache {
    fn get(&self, key: (usize, u64)) -> Option<Built> {
        self.map.get(&key).cloned()
    }

    fn insert(&mut self, key: (usize, u64), kind: u8, data: Arc<Vec<u8>>) {
        if data.len() > CACHE_MAX_OBJECT || self.map.contains_key(&key) {
            return;
        }
        self.bytes += data.len();
        self.map.insert(key, (kind, data));
        self.order.push_back(key);
        let limit = if self.limit == 0 { CACHE_BYTES } else { self.limit };
        while self.bytes > limit {
            let Some(old) = self.order.pop_front() else { break };
            if let Some((_, d)) = self.map.remove(&old) {
                self.bytes -= d.len();
            }
        }
    }
}

/// One worker's reader; not shared between threads.
pub struct PackReader<'s> {
    set: &'s PackSet,
    files: Vec<Option<File>>,
    window: Window,
    /// Bytes of an entry read outside the window (a base behind it, or an entry larger than it).
    scratch: Vec<u8>,
    cache: BaseCache,
    inflate: Decompressor,
    /// Buffers of applied deltas, kept for the next chain.
    spare: Vec<Vec<u8>>,
    /// For a reader of objects looked up by id: the pack blocks it read last.
    blocks: Option<Blocks>,
    /// The last object built by [`PackReader::with_object_delta`]: its base's offset and its changes
    /// (`None` when it was whole, cached, or its delta did not parse).
    last_delta: Option<u64>,
    changes: Vec<(usize, usize)>,
}

/// The size of a block a lookup reader reads, and how many it keeps (1 MiB per reader). Small blocks
/// many of them: on rails, 64 KiB blocks cut the reads eightfold but copied gigabytes out of the kernel;
/// 4 KiB ones cut them sixfold and cost the least CPU.
const BLOCK: u64 = 4 << 10;
const BLOCKS: usize = 256;

/// The last pack blocks a lookup reader read, least recently used dropped first.
///
/// Commits and trees looked up by id are small (a tree entry is about 120 bytes on disk) and git writes
/// them where a walk reads them close together: all commits first in recency order, then each commit's
/// new trees side by side, a delta base usually a little before its deltas. Reading each entry on its own
/// was a `pread` per object (about a million on rails, a tenth of the tree walk's time); a block holds
/// hundreds of neighbours.
#[derive(Default)]
struct Blocks {
    slots: Vec<Block>,
    /// (pack, block number) → its slot.
    index: HashMap<(usize, u64), usize, OidState>,
    clock: u64,
}

struct Block {
    pack: usize,
    /// Block number: the block starts at `number * BLOCK`.
    number: u64,
    data: Vec<u8>,
    used: u64,
}

impl Blocks {
    /// The bytes `[start, end)` of `pack`, from its blocks when the entry is small (else read exactly into
    /// `scratch`).
    fn read<'b>(
        &'b mut self,
        packs: &[PackFile],
        files: &mut [Option<File>],
        scratch: &'b mut Vec<u8>,
        pack: usize,
        start: u64,
        end: u64,
    ) -> Result<&'b [u8], PackError> {
        let info = packs.get(pack).ok_or(PackError::Corrupt("no such pack"))?;
        let data_end = info.bounds.last().copied().unwrap_or(0);
        if end > data_end || start > end {
            return Err(PackError::Corrupt("entry runs past the end of the pack"));
        }
        let first = start / BLOCK;
        let last = end.saturating_sub(1).max(start) / BLOCK;
        if end - start > BLOCK / 2 || last > first + 1 {
            let len = usize::try_from(end - start).map_err(|_| PackError::Corrupt("entry too large"))?;
            scratch.resize(len, 0);
            open(info, files, pack)?
                .read_exact_at(scratch, start)
                .map_err(|e| PackError::Io(format!("{}: {e}", info.path.display())))?;
            return Ok(&scratch[..]);
        }
        if first == last {
            let i = self.slot(info, files, pack, first, data_end)?;
            let from = (start - first * BLOCK) as usize;
            let to = (end - first * BLOCK) as usize;
            return self.slots[i]
                .data
                .get(from..to)
                .ok_or(PackError::Corrupt("entry runs past the end of the pack"));
        }
        // Across a block edge: the two halves, end to end.
        scratch.clear();
        for (number, from, to) in [(first, start, last * BLOCK), (last, last * BLOCK, end)] {
            let i = self.slot(info, files, pack, number, data_end)?;
            let base = number * BLOCK;
            let part = self.slots[i]
                .data
                .get((from - base) as usize..(to - base) as usize)
                .ok_or(PackError::Corrupt("entry runs past the end of the pack"))?;
            scratch.extend_from_slice(part);
        }
        Ok(&scratch[..])
    }

    /// The slot holding block `number` of `pack`, read now if it is not held.
    fn slot(
        &mut self,
        info: &PackFile,
        files: &mut [Option<File>],
        pack: usize,
        number: u64,
        data_end: u64,
    ) -> Result<usize, PackError> {
        self.clock += 1;
        if let Some(&i) = self.index.get(&(pack, number)) {
            self.slots[i].used = self.clock;
            return Ok(i);
        }
        let start = number * BLOCK;
        let len = usize::try_from(data_end.saturating_sub(start).min(BLOCK)).unwrap_or(0);
        let i = if self.slots.len() < BLOCKS {
            self.slots.push(Block {
                pack,
                number,
                data: Vec::new(),
                used: 0,
            });
            self.slots.len() - 1
        } else {
            self.slots
                .iter()
                .enumerate()
                .min_by_key(|(_, b)| b.used)
                .map_or(0, |(i, _)| i)
        };
        let block = &mut self.slots[i];
        self.index.remove(&(block.pack, block.number));
        block.pack = pack;
        block.number = number;
        block.used = self.clock;
        block.data.resize(len, 0);
        let read = open(info, files, pack)?
            .read_exact_at(&mut block.data, start)
            .map_err(|e| PackError::Io(format!("{}: {e}", info.path.display())));
        if let Err(e) = read {
            // A slot that failed to fill holds nothing.
            block.data.clear();
            block.number = u64::MAX;
            return Err(e);
        }
        self.index.insert((pack, number), i);
        Ok(i)
    }
}

/// The open file of `pack`, opened on first use.
fn open<'f>(info: &PackFile, files: &'f mut [Option<File>], pack: usize) -> Result<&'f File, PackError> {
    let slot = files.get_mut(pack).ok_or(PackError::Corrupt("no such pack"))?;
    if slot.is_none() {
        let f = File::open(&info.path).map_err(|e| PackError::Io(format!("{}: {e}", info.path.display())))?;
        *slot = Some(f);
    }
    slot.as_ref().ok_or(PackError::Corrupt("no such pack"))
}

/// Entry types of the pack format.
const OBJ_COMMIT: u8 = 1;
const OBJ_TREE: u8 = 2;
const OBJ_OFS_DELTA: u8 = 6;
const OBJ_REF_DELTA: u8 = 7;

/// One link of a delta chain, its delta already inflated.
struct Link {
    offset: u64,
    /// Where its base sits in the same pack.
    base: u64,
    delta: Vec<u8>,
}

/// What an object built from an offset delta shares with its base: where the base sits, and the target
/// ranges where the object is not a plain continuation of the base (see [`delta_changes`]).
#[derive(Clone, Copy, Debug)]
pub struct DeltaSource<'a> {
    pub base: Location,
    pub changes: &'a [(usize, usize)],
}

impl PackReader<'_> {
    /// Builds the object at `at` and hands its bytes to `f`; keeps it as a possible delta base.
    pub fn with_object<R>(&mut self, at: Location, f: impl FnOnce(&[u8]) -> R) -> Result<R, PackError> {
        let pack = at.pack as usize;
        let (kind, data) = self.object(pack, at.offset)?;
        let r = f(&data);
        self.cache.insert((pack, at.offset), kind, data);
        Ok(r)
    }

    /// [`PackReader::with_object`], also telling `f`, when the object was built from an offset delta, where
    /// its base sits and which of its bytes the delta did not copy straight from the base.
    pub fn with_object_delta<R>(
        &mut self,
        at: Location,
        f: impl FnOnce(&[u8], Option<DeltaSource<'_>>) -> R,
    ) -> Result<R, PackError> {
        let pack = at.pack as usize;
        self.last_delta = None;
        let (kind, data) = self.object(pack, at.offset)?;
        let source = self.last_delta.map(|base| DeltaSource {
            base: Location {
                pack: at.pack,
                offset: base,
            },
            changes: &self.changes,
        });
        let r = f(&data, source);
        self.cache.insert((pack, at.offset), kind, data);
        Ok(r)
    }

    /// The raw bytes of tree `id`, if a pack has it and it is a tree; kept as a possible delta base (and
    /// for the next commit, whose parent it may be). `None` when the caller must ask libgit2.
    pub fn tree(&mut self, id: Oid) -> Option<Arc<Vec<u8>>> {
        let at = self.set.locate(&id)?;
        let pack = at.pack as usize;
        let (kind, data) = self.object(pack, at.offset).ok()?;
        self.cache.insert((pack, at.offset), kind, data.clone());
        (kind == OBJ_TREE).then_some(data)
    }

    /// The raw bytes of commit `id`, if a pack has it and it is a commit. Not kept as a delta base: the
    /// commit walk reads each commit once, and commits would push trees out of the cache.
    pub fn commit(&mut self, id: Oid) -> Option<Arc<Vec<u8>>> {
        let at = self.set.locate(&id)?;
        let (kind, data) = self.object(at.pack as usize, at.offset).ok()?;
        (kind == OBJ_COMMIT).then_some(data)
    }

    /// The object at `offset` of `pack`: its type (that of the whole object its delta chain starts from)
    /// and its bytes.
    fn object(&mut self, pack: usize, offset: u64) -> Result<Built, PackError> {
        if let Some(hit) = self.cache.get((pack, offset)) {
            return Ok(hit);
        }
        // Walk back to a base this worker still has, or to a whole object, then build forward. Each
        // entry is read once: a delta is inflated on the way back.
        let mut chain: Vec<Link> = Vec::new();
        let mut at = offset;
        let found = loop {
            if chain.len() > MAX_CHAIN {
                break Err(PackError::Corrupt("delta chain too long"));
            }
            if at != offset {
                if let Some(hit) = self.cache.get((pack, at)) {
                    break Ok(hit);
                }
            }
            let end = match self.entry_end(pack, at) {
                Ok(e) => e,
                Err(e) => break Err(e),
            };
            let read = match &mut self.blocks {
                Some(blocks) => blocks.read(&self.set.packs, &mut self.files, &mut self.scratch, pack, at, end),
                None => read_bytes(
                    &self.set.packs,
                    &mut self.files,
                    &mut self.window,
                    &mut self.scratch,
                    pack,
                    at,
                    end,
                ),
            };
            let entry = match read {
                Ok(b) => b,
                Err(e) => break Err(e),
            };
            let (kind, size, used) = match entry_header(entry) {
                Ok(h) => h,
                Err(e) => break Err(e),
            };
            let rest = entry.get(used..).unwrap_or_default();
            match kind {
                1..=4 => {
                    let whole = inflate(&mut self.inflate, rest, size, Vec::new()).map(Arc::new);
                    if let Ok(w) = &whole {
                        if at != offset {
                            self.cache.insert((pack, at), kind, w.clone());
                        }
                    }
                    break whole.map(|w| (kind, w));
                }
                OBJ_OFS_DELTA => {
                    let (back, n) = match ofs_distance(rest) {
                        Ok(d) => d,
                        Err(e) => break Err(e),
                    };
                    let Some(base_at) = at.checked_sub(back).filter(|&b| back > 0 && b >= 12) else {
                        break Err(PackError::Corrupt("delta base offset out of range"));
                    };
                    let buf = self.spare.pop().unwrap_or_default();
                    match inflate(&mut self.inflate, rest.get(n..).unwrap_or_default(), size, buf) {
                        Ok(delta) => chain.push(Link {
                            offset: at,
                            base: base_at,
                            delta,
                        }),
                        Err(e) => break Err(e),
                    }
                    at = base_at;
                }
                OBJ_REF_DELTA => break Err(PackError::RefDelta),
                _ => break Err(PackError::Corrupt("unknown pack entry type")),
            }
        };
        let result = found.and_then(|(kind, mut base)| {
            while let Some(link) = chain.pop() {
                let built = apply_delta(&base, &link.delta);
                if link.offset == offset && built.is_ok() && delta_changes(&link.delta, &mut self.changes).is_ok() {
                    self.last_delta = Some(link.base);
                }
                self.recycle(link.delta);
                base = Arc::new(built?);
                if link.offset != offset {
                    self.cache.insert((pack, link.offset), kind, base.clone());
                }
            }
            Ok((kind, base))
        });
        for link in chain {
            self.recycle(link.delta);
        }
        result
    }

    /// Keeps a few delta buffers for the next chain instead of freeing them.
    fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.len() < 8 && buf.capacity() <= CACHE_MAX_OBJECT {
            self.spare.push(buf);
        }
    }

    /// The end of the entry at `offset`: the next entry's offset (or the end of the pack's data).
    fn entry_end(&self, pack: usize, offset: u64) -> Result<u64, PackError> {
        let bounds = &self
            .set
            .packs
            .get(pack)
            .ok_or(PackError::Corrupt("no such pack"))?
            .bounds;
        match bounds.binary_search(&offset) {
            Ok(i) if i + 1 < bounds.len() => Ok(bounds[i + 1]),
            _ => Err(PackError::Corrupt("no pack entry at this offset")),
        }
    }
}

/// Inflates a zlib stream into `out` (its contents dropped), which must come out at exactly `size` bytes.
/// libdeflate inflates a whole stream into a buffer of known size in one call, checking the Adler-32
/// trailer as zlib does; a stream that would come out longer than the buffer is an error, shorter is
/// caught by the count it returns.
fn inflate(z: &mut Decompressor, input: &[u8], size: u64, mut out: Vec<u8>) -> Result<Vec<u8>, PackError> {
    if size > (input.len() as u64).saturating_mul(MAX_RATIO).saturating_add(64) {
        return Err(PackError::Corrupt("entry size larger than its data can hold"));
    }
    let size = usize::try_from(size).map_err(|_| PackError::Corrupt("entry too large"))?;
    if out.capacity() < size {
        // Zeroed pages from the allocator, not a pass of writes.
        out = vec![0; size];
    } else {
        // A recycled buffer, cut or extended to the size: what it held is overwritten.
        out.resize(size, 0);
    }
    match z.zlib_decompress(input, &mut out) {
        Ok(n) if n == size => Ok(out),
        Ok(_) | Err(DecompressionError::InsufficientSpace) => {
            Err(PackError::Corrupt("inflated size differs from the entry header"))
        }
        Err(DecompressionError::BadData) => Err(PackError::Corrupt("zlib stream does not inflate")),
    }
}

/// The bytes `[start, end)` of a pack. Reading forward through a pack (the blob scan) goes through a
/// window read ahead in large blocks; a jump (a base behind the window, a tree looked up by id) or an
/// entry larger than half the window is read on its own, exactly.
fn read_bytes<'b>(
    packs: &[PackFile],
    files: &mut [Option<File>],
    window: &'b mut Window,
    scratch: &'b mut Vec<u8>,
    pack: usize,
    start: u64,
    end: u64,
) -> Result<&'b [u8], PackError> {
    let len = usize::try_from(end.saturating_sub(start)).map_err(|_| PackError::Corrupt("entry too large"))?;
    let window_end = window.start + window.buf.len() as u64;
    if window.pack == pack && !window.buf.is_empty() && start >= window.start && end <= window_end {
        let from = (start - window.start) as usize;
        return Ok(&window.buf[from..from + len]);
    }
    let info = packs.get(pack).ok_or(PackError::Corrupt("no such pack"))?;
    let data_end = info.bounds.last().copied().unwrap_or(0);
    if end > data_end {
        return Err(PackError::Corrupt("entry runs past the end of the pack"));
    }
    let slot = files.get_mut(pack).ok_or(PackError::Corrupt("no such pack"))?;
    if slot.is_none() {
        let f = File::open(&info.path).map_err(|e| PackError::Io(format!("{}: {e}", info.path.display())))?;
        *slot = Some(f);
    }
    let file = slot.as_ref().ok_or(PackError::Corrupt("no such pack"))?;
    let read_err = |e: std::io::Error| PackError::Io(format!("{}: {e}", info.path.display()));
    // Sequential: the entry starts where the window ends, or a little after (the last reads went there).
    let sequential = window.pack == pack && start >= window.start && start <= window_end.saturating_add(64 << 10);
    let behind = window.pack == pack && start < window.start;
    if len > WINDOW / 2 || !sequential {
        scratch.resize(len, 0);
        file.read_exact_at(scratch, start).map_err(read_err)?;
        // A jump forward (or to another pack) starts a new stretch: the window restarts small, at the end
        // of this entry. A base behind the window leaves the forward stretch as it is.
        if !sequential && !behind {
            window.pack = pack;
            window.start = end;
            window.buf.clear();
            window.ahead = 0;
        }
        return Ok(&scratch[..]);
    }
    // Read-ahead grows while reads stay sequential (the blob scan), from 64 KiB to the full window, so
    // that lookups by id which happen to land close together never pull in megabytes.
    window.ahead = (window.ahead * 2).clamp(64 << 10, WINDOW);
    let fill = usize::try_from((data_end - start).min(window.ahead.max(len) as u64)).unwrap_or(WINDOW);
    window.pack = pack;
    window.start = start;
    window.buf.resize(fill, 0);
    file.read_exact_at(&mut window.buf, start).map_err(read_err)?;
    Ok(&window.buf[..len])
}

/// An entry header: (type, inflated size, header length).
fn entry_header(b: &[u8]) -> Result<(u8, u64, usize), PackError> {
    let bad = PackError::Corrupt("bad entry header");
    let &c = b.first().ok_or(PackError::Corrupt("bad entry header"))?;
    let kind = (c >> 4) & 7;
    let mut size = u64::from(c & 0x0f);
    let mut shift = 4u32;
    let mut i = 1;
    let mut more = c & 0x80 != 0;
    while more {
        let &c = b.get(i).ok_or(PackError::Corrupt("bad entry header"))?;
        if shift > 57 {
            return Err(bad);
        }
        size |= u64::from(c & 0x7f) << shift;
        shift += 7;
        i += 1;
        more = c & 0x80 != 0;
    }
    Ok((kind, size, i))
}

/// The distance back to an offset delta's base, and how many bytes encoded it.
fn ofs_distance(b: &[u8]) -> Result<(u64, usize), PackError> {
    let bad = || PackError::Corrupt("bad delta base offset");
    let &c = b.first().ok_or_else(bad)?;
    let mut v = u64::from(c & 0x7f);
    let mut i = 1;
    let mut more = c & 0x80 != 0;
    while more {
        let &c = b.get(i).ok_or_else(bad)?;
        v = v
            .checked_add(1)
            .and_then(|v| v.checked_mul(128))
            .map(|v| v | u64::from(c & 0x7f))
            .ok_or_else(bad)?;
        i += 1;
        more = c & 0x80 != 0;
    }
    Ok((v, i))
}

/// A delta's little-endian base-128 size field.
fn delta_size(d: &[u8], i: &mut usize) -> Result<u64, PackError> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let &c = d.get(*i).ok_or(PackError::Corrupt("bad delta size"))?;
        *i += 1;
        if shift > 57 {
            return Err(PackError::Corrupt("bad delta size"));
        }
        v |= u64::from(c & 0x7f) << shift;
        shift += 7;
        if c & 0x80 == 0 {
            return Ok(v);
        }
    }
}

/// Where the result of `delta` is not a plain continuation of its base, as sorted, merged target ranges
/// in `out`: every range an insert op wrote, and an empty range wherever a copy does not continue the
/// previous copy in the base, at the start unless the result starts with the base's first bytes, and
/// at the end unless it ends with the base's last bytes. Between two of these, the result is one run of
/// the base's bytes, in order: whatever a scan finds far enough from every change, it found in the base.
pub fn delta_changes(delta: &[u8], out: &mut Vec<(usize, usize)>) -> Result<(), PackError> {
    let bad = |why| PackError::Corrupt(why);
    out.clear();
    let mut i = 0;
    let base_len = usize::try_from(delta_size(delta, &mut i)?).map_err(|_| bad("delta base too large"))?;
    let size = usize::try_from(delta_size(delta, &mut i)?).map_err(|_| bad("delta result too large"))?;
    let mut push = |a: usize, b: usize| match out.last_mut() {
        Some(last) if a <= last.1 => last.1 = last.1.max(b),
        _ => out.push((a, b)),
    };
    let mut t = 0usize;
    // Where in the base the previous op, when a copy, stopped; the start of the base before any op.
    let mut copied_to: Option<usize> = Some(0);
    while let Some(&op) = delta.get(i) {
        i += 1;
        if op & 0x80 != 0 {
            let (off, len) = copy_op(op, delta, &mut i)?;
            if copied_to != Some(off) {
                push(t, t);
            }
            copied_to = Some(off.checked_add(len).ok_or(bad("delta copies outside its base"))?);
            t = t.checked_add(len).ok_or(bad("delta result too large"))?;
        } else if op != 0 {
            let n = usize::from(op);
            let end = t.checked_add(n).ok_or(bad("delta result too large"))?;
            push(t, end);
            i += n;
            t = end;
            copied_to = None;
        } else {
            return Err(bad("reserved delta instruction"));
        }
    }
    if t != size {
        return Err(bad("delta result differs from its declared size"));
    }
    if copied_to != Some(base_len) {
        push(t, t);
    }
    Ok(())
}

/// The base offset and length of a copy instruction `op` (high bit set), read from the bytes that follow
/// it in `delta` at `i`, which it advances past them; a length of 0 means 0x10000.
#[inline]
fn copy_op(op: u8, delta: &[u8], i: &mut usize) -> Result<(usize, usize), PackError> {
    let mut next = |shift: usize| -> Result<usize, PackError> {
        let b = *delta.get(*i).ok_or(PackError::Corrupt("truncated delta"))?;
        *i += 1;
        Ok(usize::from(b) << shift)
    };
    let mut off = 0usize;
    let mut len = 0usize;
    for b in 0..4 {
        if op & (1 << b) != 0 {
            off |= next(8 * b)?;
        }
    }
    for b in 0..3 {
        if op & (0x10 << b) != 0 {
            len |= next(8 * b)?;
        }
    }
    Ok((off, if len == 0 { 0x10000 } else { len }))
}

/// Applies a git delta (copy-from-base and insert instructions) to `base`.
pub fn apply_delta(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, PackError> {
    let bad = |why| PackError::Corrupt(why);
    let mut i = 0;
    if delta_size(delta, &mut i)? != base.len() as u64 {
        return Err(bad("delta base size mismatch"));
    }
    let size = delta_size(delta, &mut i)?;
    let size = usize::try_from(size).map_err(|_| bad("delta result too large"))?;
    // A copy instruction can repeat the base, so the claimed size is checked as the result grows rather
    // than trusted for one allocation.
    let mut out = Vec::with_capacity(size.min(base.len().saturating_add(delta.len()).saturating_mul(2)));
    while let Some(&op) = delta.get(i) {
        i += 1;
        if op & 0x80 != 0 {
            let (off, len) = copy_op(op, delta, &mut i)?;
            let src = off
                .checked_add(len)
                .and_then(|e| base.get(off..e))
                .ok_or(bad("delta copies outside its base"))?;
            out.extend_from_slice(src);
        } else if op != 0 {
            let n = usize::from(op);
            out.extend_from_slice(delta.get(i..i + n).ok_or(bad("truncated delta"))?);
            i += n;
        } else {
            return Err(bad("reserved delta instruction"));
        }
        if out.len() > size {
            return Err(bad("delta result larger than declared"));
        }
    }
    if out.len() != size {
        return Err(bad("delta result smaller than declared"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block reader gives exactly the bytes a direct read gives: inside a block, across a block edge,
    /// larger than half a block, at the end of the data, and after older blocks were dropped; a range past
    /// the end of the data is an error.
    #[test]
    fn block_reads_give_the_bytes_a_direct_read_gives() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("p.pack");
        let len = (BLOCK as usize) * (BLOCKS + 8) + 123;
        let bytes: Vec<u8> = (0..len as u64)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&path, &bytes).expect("write");
        let data_end = len as u64 - 20;
        let packs = [PackFile {
            path,
            bounds: vec![12, data_end],
        }];
        let mut files: Vec<Option<File>> = vec![None];
        let mut scratch = Vec::new();
        let mut blocks = Blocks::default();
        let b = BLOCK;
        let mut ranges = vec![
            (12, 40),
            (b - 10, b + 10),
            (b, b + 1),
            (2 * b - 1, 2 * b + b / 2 - 1),
            (3 * b + 5, 4 * b),
            (data_end - 7, data_end),
            (data_end - b / 2 - 3, data_end),
        ];
        // One range per block, more blocks than are kept, then the first ones again.
        ranges.extend((0..BLOCKS as u64 + 6).map(|n| (n * b + 100, n * b + 300)));
        ranges.extend((0..4).map(|n| (n * b + 1, n * b + b - 1)));
        for (start, end) in ranges {
            let got = blocks
                .read(&packs, &mut files, &mut scratch, 0, start, end)
                .unwrap_or_else(|e| panic!("{start}..{end}: {e:?}"));
            assert_eq!(got, &bytes[start as usize..end as usize], "{start}..{end}");
        }
        assert!(blocks.slots.len() <= BLOCKS);
        assert!(blocks
            .read(&packs, &mut files, &mut scratch, 0, data_end - 2, data_end + 1)
            .is_err());
        assert!(blocks.read(&packs, &mut files, &mut scratch, 1, 12, 14).is_err());
    }

    #[test]
    fn a_delta_copies_and_inserts() {
        let base = b"hello, world";
        // base size 12, result size 11: copy "hello" (offset 0, len 5), insert " you", copy "ld" (10, 2).
        let delta = [12, 11, 0x90, 5, 4, b' ', b'y', b'o', b'u', 0x91, 10, 2];
        assert_eq!(apply_delta(base, &delta).as_deref(), Ok(&b"hello yould"[..]));
    }

    #[test]
    fn delta_changes_are_inserts_and_seams_between_copies() {
        let changes = |delta: &[u8]| {
            let mut out = vec![(99, 99)];
            delta_changes(delta, &mut out).map(|()| out)
        };
        // copy "hello", insert " you", copy "ld" (the base's end): the insert, the seam after it merged.
        assert_eq!(
            changes(&[12, 11, 0x90, 5, 4, b' ', b'y', b'o', b'u', 0x91, 10, 2]),
            Ok(vec![(5, 9)])
        );
        // two copies that continue each other: the base itself, no change at all.
        assert_eq!(changes(&[12, 12, 0x90, 5, 0x91, 5, 7]), Ok(vec![]));
        // a deletion: two copies that do not continue each other meet at 5.
        assert_eq!(changes(&[12, 11, 0x90, 5, 0x91, 6, 6]), Ok(vec![(5, 5)]));
        // a result that neither starts with the base's start nor ends with its end.
        assert_eq!(changes(&[12, 2, 0x91, 3, 2]), Ok(vec![(0, 0), (2, 2)]));
        // an insert at the end, a copy of the middle first
        assert_eq!(changes(&[12, 4, 0x91, 3, 2, 2, b'!', b'!']), Ok(vec![(0, 0), (2, 4)]));
        // a delta that does not add up is an error, not a guess
        assert!(changes(&[12, 9, 0x90, 5]).is_err());
        assert!(changes(&[12, 5, 0x90, 5, 0]).is_err());
        assert!(changes(&[12, 5, 0x90]).is_err());
    }

    /// An entry inflates only to exactly the size its header claims, with a sound Adler-32 trailer;
    /// a recycled buffer, larger or smaller, gives the same bytes.
    #[test]
    fn inflate_takes_only_a_sound_stream_of_the_claimed_size() {
        use std::io::Write;
        let data: Vec<u8> = (0..5000u32)
            .flat_map(|i| format!("line {i} of a blob\n").into_bytes())
            .collect();
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&data).expect("compress");
        let stream = enc.finish().expect("compress");
        let size = data.len() as u64;
        let mut z = Decompressor::new();
        assert_eq!(inflate(&mut z, &stream, size, Vec::new()).as_deref(), Ok(&data[..]));
        for recycled in [vec![7u8; 10], vec![7u8; data.len() * 2]] {
            assert_eq!(inflate(&mut z, &stream, size, recycled).as_deref(), Ok(&data[..]));
        }
        // The header claims one byte more or less than the stream holds.
        assert!(inflate(&mut z, &stream, size + 1, Vec::new()).is_err());
        assert!(inflate(&mut z, &stream, size - 1, Vec::new()).is_err());
        // A damaged checksum, a damaged body, a truncated stream.
        let mut bad = stream.clone();
        *bad.last_mut().expect("trailer") ^= 1;
        assert!(inflate(&mut z, &bad, size, Vec::new()).is_err());
        let mut bad = stream.clone();
        bad[stream.len() / 2] ^= 0x5a;
        assert!(inflate(&mut z, &bad, size, Vec::new()).is_err());
        assert!(inflate(&mut z, &stream[..stream.len() - 5], size, Vec::new()).is_err());
        // A size no stream of this length can inflate to is refused before anything is allocated.
        assert!(inflate(&mut z, &stream, u64::MAX, Vec::new()).is_err());
    }

    #[test]
    fn a_hostile_delta_is_an_error_not_a_panic() {
        let base = b"abc";
        // wrong base size
        assert!(apply_delta(base, &[4, 3, 0x90, 3]).is_err());
        // copy past the base
        assert!(apply_delta(base, &[3, 3, 0x91, 2, 3]).is_err());
        // insert past the delta's end
        assert!(apply_delta(base, &[3, 5, 5, b'a']).is_err());
        // result larger than declared, and huge declared sizes do not allocate up front
        assert!(apply_delta(base, &[3, 1, 0x90, 3]).is_err());
        assert!(apply_delta(base, &[3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x90, 3]).is_err());
        // reserved instruction 0, and truncated input
        assert!(apply_delta(base, &[3, 3, 0]).is_err());
        assert!(apply_delta(base, &[3]).is_err());
    }

    #[test]
    fn entry_headers_and_offsets_decode_and_reject_garbage() {
        // blob (3) of size 0x15 = 5 | (1 << 4)
        assert_eq!(entry_header(&[0xb5, 0x01]), Ok((3, 21, 2)));
        assert!(entry_header(&[0x80]).is_err());
        assert!(entry_header(&[0xff; 16]).is_err());
        assert_eq!(ofs_distance(&[0x05]), Ok((5, 1)));
        // git's offset encoding adds one per continuation byte: 0x81 0x00 = (1 + 1) << 7.
        assert_eq!(ofs_distance(&[0x81, 0x00]), Ok((256, 2)));
        assert!(ofs_distance(&[0xff; 16]).is_err());
    }
}
