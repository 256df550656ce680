//! A read-only parser for git's index file, just enough to find what is staged without reading the
//! whole repository: the entries (path, mode, object id, stage) and the cache-tree (`TREE` extension).
//!
//! Why not libgit2's index: it hashes the whole file (SHA-1 with collision detection) and builds a hash
//! map of every entry on each load, and its tree-to-index diff reads every tree of HEAD. At 100k files
//! that was ~80 ms of CPU before any blob was read. git itself skips the checksum on reads and uses the
//! cache-tree to skip every directory whose tree is unchanged; so do we. Anything unusual (split or
//! sparse index, an unknown version, SHA-256, a parse error) returns `None` and the caller falls back to
//! libgit2's full diff: this is a fast path, never the only path. Format:
//! <https://git-scm.com/docs/index-format>.

/// The index file's bytes, mapped rather than read: reading copies the file (0.9 MB at 10k files) into
/// fresh memory, one page fault per 4 KB, which was a tenth of a pre-commit hook's start-up; a mapping
/// shares the page-cache pages, all mapped by one call (`populate`).
pub struct Mapped(Option<memmap2::Mmap>);

impl Mapped {
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Ok(Mapped(None));
        }
        // SAFETY: the mapping is read-only and private, and nothing writes the file while we read it:
        // git replaces the index by renaming a new file over it (`index.lock`), never by writing in
        // place, so the inode we mapped keeps its bytes. A program that truncated an index in place
        // while a hook read it would make the read fault; ripgrep makes the same trade for its files.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file)? };
        Ok(Mapped(Some(map)))
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.0.as_deref().unwrap_or_default()
    }
}

/// Object ids in the index are SHA-1 (SHA-256 repositories take the fallback).
const OID_LEN: usize = 20;
/// ctime, mtime, dev, ino, mode, uid, gid, size, oid, flags.
const ENTRY_FIXED: usize = 40 + OID_LEN + 2;

/// One index entry, as offsets into the index (16 bytes, where a parsed copy of its path and id would
/// take 56: an index of 100k files makes this table, and every page of it is a fresh page fault at the
/// start of a pre-commit hook). [`Index`] reads its fields.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// Where the entry starts in the file.
    at: u32,
    /// Where its path is in [`Index::paths`], and its length.
    path: u32,
    path_len: u32,
    /// 0 for a normal entry; 1–3 for the sides of a merge conflict.
    pub stage: u8,
    /// Added with `git add -N`: not part of the commit yet.
    pub intent_to_add: bool,
}

/// A cache-tree node: a directory and, when valid, the id of the tree its index entries make.
#[derive(Debug)]
pub struct CacheTree<'a> {
    pub name: &'a [u8],
    /// `None` when invalidated (something under it changed since the tree was last written).
    pub oid: Option<[u8; OID_LEN]>,
    pub children: Vec<CacheTree<'a>>,
}

impl CacheTree<'_> {
    pub fn child(&self, name: &[u8]) -> Option<&Self> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// A parsed index.
#[derive(Debug)]
pub struct Index<'a> {
    data: &'a [u8],
    /// Where the entries' paths are: the file itself (versions 2 and 3), or for version 4, whose paths are
    /// prefix-compressed, every path written out whole, one after the other.
    paths: std::borrow::Cow<'a, [u8]>,
    /// In index order: sorted by path bytes, so every directory's entries are contiguous.
    pub entries: Vec<Entry>,
    pub tree: Option<CacheTree<'a>>,
}

impl Index<'_> {
    /// Repository-relative, `/`-separated.
    pub fn path(&self, e: &Entry) -> &[u8] {
        let start = e.path as usize;
        self.paths
            .get(start..start + e.path_len as usize)
            .expect("parse checked every entry's path")
    }

    pub fn mode(&self, e: &Entry) -> u32 {
        u32::from_be_bytes(self.fixed(e, 24))
    }

    pub fn oid(&self, e: &Entry) -> [u8; OID_LEN] {
        self.fixed(e, 40)
    }

    /// `N` bytes at `offset` of the entry's fixed part.
    fn fixed<const N: usize>(&self, e: &Entry, offset: usize) -> [u8; N] {
        let start = e.at as usize + offset;
        self.data
            .get(start..start + N)
            .and_then(|b| b.try_into().ok())
            .expect("parse checked every entry's fixed part")
    }
}

/// Parses an index file. `None` for anything this parser does not handle.
pub fn parse(data: &[u8]) -> Option<Index<'_>> {
    let mut r = Reader { data, pos: 0 };
    if r.take(4)? != b"DIRC" {
        return None;
    }
    let version = r.u32()?;
    if !(2..=4).contains(&version) {
        return None;
    }
    // Offsets are 32-bit: a 4 GiB index takes libgit2's path.
    u32::try_from(data.len()).ok()?;
    let count = usize::try_from(r.u32()?).ok()?;
    // Every entry takes at least ENTRY_FIXED + 1 bytes: a bogus count cannot reserve unbounded memory.
    let mut entries = Vec::with_capacity(count.min(data.len() / (ENTRY_FIXED + 1)));
    let mut previous: Vec<u8> = Vec::new();
    let mut whole: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = r.pos;
        let fixed = r.take(ENTRY_FIXED)?;
        let mode = u32::from_be_bytes(fixed.get(24..28)?.try_into().ok()?);
        let flags = u16::from_be_bytes(fixed.get(ENTRY_FIXED - 2..)?.try_into().ok()?);
        let mut extended = 0u16;
        if flags & 0x4000 != 0 {
            if version < 3 {
                return None;
            }
            extended = u16::from_be_bytes(r.take(2)?.try_into().ok()?);
        }
        if extended & 0x4000 != 0 || mode & 0o170000 == 0o040000 {
            // skip-worktree / sparse directory entries: sparse checkouts take the fallback.
            return None;
        }
        let (path, path_len) = if version == 4 {
            let strip = r.varint()?;
            let suffix = r.until_nul()?;
            let keep = previous.len().checked_sub(strip)?;
            previous.truncate(keep);
            previous.extend_from_slice(suffix);
            let at = whole.len();
            whole.extend_from_slice(&previous);
            (at, previous.len())
        } else {
            let at = r.pos;
            // The flags hold the path's length when it is under 0xFFF, as git reads it: no search for its
            // NUL then (a tenth of the parse at 10k files). A path that does not end at that NUL, or holds
            // one, is a damaged index.
            let path = match usize::from(flags & 0xFFF) {
                0xFFF => r.until_nul()?,
                n => {
                    let path = r.take(n)?;
                    (r.take(1)? == [0] && !path.contains(&0)).then_some(path)?
                }
            };
            // NUL padding to a multiple of 8 bytes, counted from the entry's start (1 to 8 NULs).
            let len = r.pos - start;
            let padded = len.checked_add(7)? / 8 * 8;
            r.take(padded - len)?;
            (at, path.len())
        };
        entries.push(Entry {
            at: u32::try_from(start).ok()?,
            path: u32::try_from(path).ok()?,
            path_len: u32::try_from(path_len).ok()?,
            stage: ((flags >> 12) & 0x3) as u8,
            intent_to_add: extended & 0x2000 != 0,
        });
    }
    let body_end = data.len().checked_sub(OID_LEN)?;
    let mut tree = None;
    while r.pos < body_end {
        let sig = r.take(4)?;
        let size = usize::try_from(r.u32()?).ok()?;
        let ext = r.take(size)?;
        match sig {
            b"TREE" => tree = parse_tree(ext),
            // Split index, sparse index, or any other extension git says a reader must understand.
            _ if sig.first().is_some_and(|c| c.is_ascii_lowercase()) => return None,
            _ => {}
        }
    }
    let paths = if version == 4 {
        std::borrow::Cow::Owned(whole)
    } else {
        std::borrow::Cow::Borrowed(data)
    };
    (r.pos == body_end).then_some(Index {
        data,
        paths,
        entries,
        tree,
    })
}

fn parse_tree(data: &[u8]) -> Option<CacheTree<'_>> {
    let mut r = Reader { data, pos: 0 };
    let root = tree_node(&mut r, 0)?;
    (r.pos == data.len()).then_some(root)
}

fn tree_node<'a>(r: &mut Reader<'a>, depth: usize) -> Option<CacheTree<'a>> {
    if depth > 4096 {
        return None;
    }
    let name = r.until_nul()?;
    let line = r.until(b'\n')?;
    let line = std::str::from_utf8(line).ok()?;
    let (count, subtrees) = line.split_once(' ')?;
    let count: i64 = count.parse().ok()?;
    let subtrees: usize = subtrees.parse().ok()?;
    let oid = if count >= 0 {
        Some(r.take(OID_LEN)?.try_into().ok()?)
    } else {
        None
    };
    let mut children = Vec::with_capacity(subtrees.min(r.data.len()));
    for _ in 0..subtrees {
        children.push(tree_node(r, depth + 1)?);
    }
    Some(CacheTree { name, oid, children })
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    /// Bytes up to `stop`, which is consumed and not returned.
    fn until(&mut self, stop: u8) -> Option<&'a [u8]> {
        let rest = self.data.get(self.pos..)?;
        let n = memchr::memchr(stop, rest)?;
        self.pos += n + 1;
        rest.get(..n)
    }

    fn until_nul(&mut self) -> Option<&'a [u8]> {
        self.until(0)
    }

    /// git's offset varint (version 4 path compression).
    fn varint(&mut self) -> Option<usize> {
        let mut c = *self.take(1)?.first()?;
        let mut val = usize::from(c & 0x7f);
        while c & 0x80 != 0 {
            c = *self.take(1)?.first()?;
            val = val
                .checked_add(1)?
                .checked_mul(128)?
                .checked_add(usize::from(c & 0x7f))?;
        }
        Some(val)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncation_never_panic() {
        assert!(parse(b"").is_none());
        assert!(parse(b"DIRC\0\0\0\x02\0\0\0\x05").is_none());
        assert!(parse(b"DIRC\0\0\0\x09\0\0\0\0").is_none());
        let mut data = b"DIRC\0\0\0\x02\0\0\0\x01".to_vec();
        data.extend_from_slice(&[0u8; 70]);
        for n in 0..data.len() {
            let _ = parse(&data[..n]);
        }
        let _ = parse_tree(b"\x00-1 99999999999\n");
        let _ = parse_tree(b"\x0012 1\n");
    }

    /// A version-2 index of `paths` (in order), each entry's flags naming `len(path)` as git writes it
    /// (0xFFF for 0xFFF bytes or more), or the length `flag_len` gives.
    fn index_of(paths: &[&[u8]], flag_len: impl Fn(&[u8]) -> u16) -> Vec<u8> {
        let mut data = b"DIRC\0\0\0\x02".to_vec();
        data.extend_from_slice(&(paths.len() as u32).to_be_bytes());
        for (i, path) in paths.iter().enumerate() {
            let start = data.len();
            let mut fixed = [0u8; ENTRY_FIXED];
            fixed[24..28].copy_from_slice(&0o100644u32.to_be_bytes());
            fixed[40] = i as u8 + 1;
            fixed[ENTRY_FIXED - 2..].copy_from_slice(&flag_len(path).to_be_bytes());
            data.extend_from_slice(&fixed);
            data.extend_from_slice(path);
            data.push(0);
            while !(data.len() - start).is_multiple_of(8) {
                data.push(0);
            }
        }
        data.extend_from_slice(&[0u8; OID_LEN]);
        data
    }

    #[test]
    fn paths_come_from_the_flags_length_or_up_to_the_nul_when_long() {
        let long = vec![b'x'; 5000];
        let paths: [&[u8]; 3] = [b"a/b.txt", &long, b"z"];
        let data = index_of(&paths, |p| p.len().min(0xFFF) as u16);
        let index = parse(&data).expect("a well-formed index parses");
        let got: Vec<&[u8]> = index.entries.iter().map(|e| index.path(e)).collect();
        assert_eq!(got, paths);
        assert_eq!(index.oid(&index.entries[2])[0], 3);
        assert_eq!(index.mode(&index.entries[0]), 0o100644);
        // A length in the flags that does not end at the path's NUL is a damaged index: no fast path.
        for (paths, delta) in [(&[&b"abc"[..]][..], 1i16), (&[b"abc", b"d"], 1), (&[b"abc", b"d"], -1)] {
            let data = index_of(paths, |p| (p.len() as i16 + delta) as u16);
            assert!(parse(&data).is_none(), "{paths:?} {delta}");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..400), v in 2u8..5) {
            let mut data = vec![b'D', b'I', b'R', b'C', 0, 0, 0, v, 0, 0, 0, 3];
            data.extend_from_slice(&tail);
            let _ = parse(&data);
            let _ = parse_tree(&tail);
        }
    }
}
