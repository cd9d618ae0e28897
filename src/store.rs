//! Intermediate storage of a run: what the sketch stage produces for every
//! article (its shingle sequence, its shingle postings), kept
//! in memory up to a budget and spilled to one unnamed temporary file beyond
//! it, so that a run's peak memory follows the number of articles (their
//! signatures, counts and the candidate pairs), not the corpus's bytes.
//!
//! Data is written once, in input order, in chunks of at most [`CHUNK_BYTES`], and read
//! back by chunk (postings, one hash partition at a time) or by article (shingle
//! sequences, for verification). Spilled chunks are read with positioned reads,
//! not mapped, so they never count as the process's memory. The temporary file
//! is created in [`SpillOptions::dir`] (default: the system's temporary folder,
//! `TMPDIR`), is unnamed where the system allows it, and is gone when the run
//! ends. Whether a chunk is in memory or on disk never changes a result.
//!
//! If the file cannot be created or written (a full disk, a read-only folder),
//! the problem is reported once and the run goes on in memory.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Bytes of one chunk at most.
pub const CHUNK_BYTES: usize = 1 << 18;

/// Bytes of one chunk at least (small budgets use small chunks, so that
/// a small input spills as a large one does).
const MIN_CHUNK_BYTES: usize = 1 << 12;

/// Bytes of one chunk of a [`Store`] at most: a store has a partly filled
/// chunk in each of its partitions.
const STORE_CHUNK_BYTES: usize = 1 << 16;

/// Where and from when a run spills its intermediate data to disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpillOptions {
    /// Intermediate data kept in memory before chunks go to a temporary file.
    pub budget: u64,
    /// Folder of the temporary file; `None`: the system's (`TMPDIR`).
    pub dir: Option<PathBuf>,
}

impl Default for SpillOptions {
    fn default() -> SpillOptions {
        SpillOptions {
            budget: 1 << 30,
            dir: None,
        }
    }
}

impl SpillOptions {
    /// The folder of the temporary file.
    pub fn dir_or_default(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(std::env::temp_dir)
    }
}

static OPTIONS: Mutex<Option<SpillOptions>> = Mutex::new(None);

/// Sets how the runs of this process spill intermediate data (like the
/// thread count, a process-wide setting; it never changes a result).
pub fn set_spill_options(options: SpillOptions) {
    *OPTIONS.lock().unwrap_or_else(|e| e.into_inner()) = Some(options);
}

/// The options in force.
pub fn spill_options() -> SpillOptions {
    OPTIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

/// Where a chunk is.
enum Chunk {
    Memory(Vec<u8>),
    Disk { offset: u64, len: u64 },
}

/// The temporary file and the memory budget shared by a run's stores.
pub(crate) struct Disk {
    options: SpillOptions,
    /// Bytes of a chunk under this budget: a 256th of it, within
    /// [`MIN_CHUNK_BYTES`]..=[`CHUNK_BYTES`].
    chunk: usize,
    in_memory: u64,
    file: Option<Arc<File>>,
    len: u64,
    /// The first problem met with the file (reported once by the caller).
    pub error: Option<(PathBuf, io::Error)>,
    /// Bytes written to the file.
    pub spilled: u64,
}

impl Disk {
    /// A disk with these options; nothing is created until a chunk spills.
    pub fn new(options: SpillOptions) -> Disk {
        Disk {
            chunk: ((options.budget / 256) as usize).clamp(MIN_CHUNK_BYTES, CHUNK_BYTES),
            options,
            in_memory: 0,
            file: None,
            len: 0,
            error: None,
            spilled: 0,
        }
    }

    fn dir(&self) -> PathBuf {
        self.options.dir_or_default()
    }

    /// Keeps `data` in memory while the budget allows, else writes it out.
    fn put(&mut self, data: Vec<u8>) -> Chunk {
        if self.error.is_none() && self.in_memory + data.len() as u64 > self.options.budget {
            match self.write(&data) {
                Ok(offset) => {
                    return Chunk::Disk {
                        offset,
                        len: data.len() as u64,
                    };
                }
                Err(e) => self.error = Some((self.dir(), e)),
            }
        }
        self.in_memory += data.len() as u64;
        Chunk::Memory(data)
    }

    /// [`Disk::put`] for a chunk of words, kept as words in memory (read
    /// back without a copy) and written little-endian to the file.
    fn put_words(&mut self, words: Vec<u64>) -> WordChunk {
        let bytes = words.len() as u64 * 8;
        if self.error.is_none() && self.in_memory + bytes > self.options.budget {
            let mut data = Vec::with_capacity(words.len() * 8);
            for w in &words {
                data.extend_from_slice(&w.to_le_bytes());
            }
            match self.write(&data) {
                Ok(offset) => return WordChunk::Disk { offset },
                Err(e) => self.error = Some((self.dir(), e)),
            }
        }
        self.in_memory += bytes;
        WordChunk::Memory(words)
    }

    fn write(&mut self, data: &[u8]) -> io::Result<u64> {
        if self.file.is_none() {
            self.file = Some(Arc::new(tempfile::tempfile_in(self.dir())?));
        }
        let file = self.file.as_ref().expect("created above");
        write_at(file, data, self.len)?;
        let offset = self.len;
        self.len += data.len() as u64;
        self.spilled += data.len() as u64;
        Ok(offset)
    }

    fn read(&self, offset: u64, len: usize, out: &mut Vec<u8>) -> io::Result<()> {
        read_from(self.file.as_deref(), offset, len, out)
    }

    /// What reads back the chunks written so far, apart from the disk: one
    /// thread may go on writing while others read.
    pub fn reader(&self) -> Reader {
        Reader {
            file: self.file.clone(),
        }
    }
}

/// Reads back chunks a [`Disk`] wrote (see [`Disk::reader`]).
pub(crate) struct Reader {
    file: Option<Arc<File>>,
}

impl Reader {
    fn read(&self, offset: u64, len: usize, out: &mut Vec<u8>) -> io::Result<()> {
        read_from(self.file.as_deref(), offset, len, out)
    }
}

/// `len` bytes at `offset` of the temporary file into `out`.
fn read_from(file: Option<&File>, offset: u64, len: usize, out: &mut Vec<u8>) -> io::Result<()> {
    out.clear();
    out.resize(len, 0);
    match file {
        Some(f) => read_at(f, out, offset),
        None => Err(io::Error::other("temporary file missing")),
    }
}

#[cfg(unix)]
fn write_at(f: &File, data: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, data, offset)
}

#[cfg(unix)]
fn read_at(f: &File, out: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, out, offset)
}

#[cfg(windows)]
fn write_at(f: &File, mut data: &[u8], mut offset: u64) -> io::Result<()> {
    while !data.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(f, data, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        data = &data[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(windows)]
fn read_at(f: &File, mut out: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !out.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(f, out, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        out = &mut out[n..];
        offset += n as u64;
    }
    Ok(())
}

/// A posting: a 64-bit hash and a 32-bit article or node number.
pub(crate) type Posting = (u64, u32);

/// A record of a [`Store`], written little-endian. A partition's records
/// are encoded and decoded in the order written, so a record may be coded
/// against the one before it (the `Cursor` carries what it needs).
pub(crate) trait Record: Copy {
    /// Bytes of one record at most.
    const BYTES: usize;
    /// Bytes of one record at least.
    const MIN_BYTES: usize = Self::BYTES;
    /// What the coding of a partition carries from one record to the next.
    type Cursor: Copy;
    /// The cursor at the start of partition `p` of `2^bits`.
    fn cursor(p: usize, bits: u32) -> Self::Cursor;
    /// Appends the record's bytes to `out`.
    fn encode(self, cursor: &mut Self::Cursor, out: &mut Vec<u8>);
    /// Appends to `out` the records encoded in `bytes`, which ends at a
    /// record's end.
    fn decode_all(bytes: &[u8], cursor: &mut Self::Cursor, out: &mut Vec<Self>);
}

impl Record for Posting {
    const BYTES: usize = 12;
    type Cursor = ();
    fn cursor(_: usize, _: u32) {}
    #[inline]
    fn encode(self, _: &mut (), out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_le_bytes());
        out.extend_from_slice(&self.1.to_le_bytes());
    }
    fn decode_all(bytes: &[u8], _: &mut (), out: &mut Vec<Posting>) {
        out.extend(bytes.chunks_exact(12).map(|r| {
            (
                u64::from_le_bytes(r[..8].try_into().expect("8 bytes")),
                u32::from_le_bytes(r[8..12].try_into().expect("4 bytes")),
            )
        }));
    }
}

/// A pair of node numbers as `a << 32 | b`.
impl Record for u64 {
    const BYTES: usize = 8;
    type Cursor = ();
    fn cursor(_: usize, _: u32) {}
    #[inline]
    fn encode(self, _: &mut (), out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn decode_all(bytes: &[u8], _: &mut (), out: &mut Vec<u64>) {
        out.extend(
            bytes
                .chunks_exact(8)
                .map(|r| u64::from_le_bytes(r.try_into().expect("8 bytes"))),
        );
    }
}

/// A posting of a store written in order of article: in a partition, the
/// ids (below 2^31, with a mark in bit 31) mostly stay or grow by a little
/// from one posting to the next. Such a posting takes 8 bytes instead of 12:
/// the hash's top 8 bits are the partition's (with 8 bits of partition or
/// more) and are left out, which frees a byte for the mark and the growth
/// of the id; an id that falls or grows by 127 or more follows in 4 more
/// bytes. Any order of ids is coded correctly; the order only saves bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct Ordered(pub Posting);

/// The coding state of a partition of [`Ordered`] postings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OrderedCursor {
    /// The partition's top 8 bits of hash in place, if the partition tells
    /// them (else a ninth byte holds them).
    top: Option<u64>,
    /// The id of the last posting, without its mark.
    prev: u32,
}

/// The mark bit of an [`Ordered`] posting's id.
const MARK: u32 = 1 << 31;

/// The growth byte's value saying that the id follows in 4 bytes.
const FAR: u32 = 127;

impl Record for Ordered {
    const BYTES: usize = 13;
    const MIN_BYTES: usize = 8;
    type Cursor = OrderedCursor;
    fn cursor(p: usize, bits: u32) -> OrderedCursor {
        OrderedCursor {
            top: (bits >= 8).then(|| ((p as u64) >> (bits - 8)) << 56),
            prev: 0,
        }
    }
    #[inline]
    fn encode(self, c: &mut OrderedCursor, out: &mut Vec<u8>) {
        let (h, id) = self.0;
        let n = id & !MARK;
        let step = n.wrapping_sub(c.prev);
        let near = n >= c.prev && step < FAR;
        let low = (if near { step } else { FAR }) << 1 | id >> 31;
        out.extend_from_slice(&((h << 8) | low as u64).to_le_bytes());
        if c.top.is_none() {
            out.push((h >> 56) as u8);
        }
        if !near {
            out.extend_from_slice(&n.to_le_bytes());
        }
        c.prev = n;
    }
    fn decode_all(bytes: &[u8], c: &mut OrderedCursor, out: &mut Vec<Ordered>) {
        // About 8 bytes a posting.
        out.reserve(bytes.len() / 8);
        let mut i = 0;
        while let Some(word) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            i += 8;
            let top = match c.top {
                Some(top) => top,
                None => {
                    let Some(&b) = bytes.get(i) else { break };
                    i += 1;
                    (b as u64) << 56
                }
            };
            let low = (word & 0xFF) as u32;
            let n = if low >> 1 == FAR {
                let Some(n) = bytes.get(i..i + 4) else { break };
                i += 4;
                u32::from_le_bytes(n.try_into().expect("4 bytes"))
            } else {
                c.prev.wrapping_add(low >> 1)
            };
            c.prev = n;
            out.push(Ordered((top | word >> 8, n | (low & 1) << 31)));
        }
    }
}

/// Sorts postings by hash, when their hashes are uniform below the top
/// `known_bits` (one partition's), leaving out some postings whose hash no
/// other posting has: each of those is given to `single` instead. (Such a
/// posting's shingle is in one text only: it can be neither stock, nor
/// boilerplate, nor a fingerprint two texts share, so the reader only
/// counts it; most postings are of such shingles, 58% to 83% on the
/// benchmark corpora.) The ids of one hash are left in no particular
/// order: no reader needs them in order, and sorting them made a shingle
/// in fifty texts fifty ids to put in order.
///
/// A counting pass splits the postings by the next bits into about as many
/// buckets as postings, so that most buckets hold one posting or none, and
/// one insertion pass over the whole then orders what shares a bucket: 42
/// against 51 ms for 256 partitions of 21,000 postings, against sorting
/// each bucket of four on its own (one loop's branches are easier to
/// predict than a loop per bucket). A posting alone in its bucket is alone
/// with its hash: it is given to `single`, not moved. Hashes that are not
/// uniform (many different ones in one bucket) would make the insertion
/// pass quadratic: after as many moves as sixteen per posting it stops,
/// and the rest is sorted by comparison.
pub(crate) fn sort_postings(
    v: &mut Vec<Posting>,
    known_bits: u32,
    mut single: impl FnMut(Posting),
) {
    let bits = v.len().max(1).ilog2().min(20);
    if bits < 6 || known_bits + bits > 64 || v.len() > u32::MAX as usize {
        v.sort_unstable_by_key(|p| p.0);
        return;
    }
    let shift = 64 - known_bits - bits;
    let bucket = |h: u64| ((h >> shift) & ((1 << bits) - 1)) as usize;
    let mut at = vec![0u32; 1 << bits];
    for p in v.iter() {
        at[bucket(p.0)] += 1;
    }
    // Each bucket's first place among the postings that are not alone in
    // theirs; `ALONE` for a bucket of one.
    const ALONE: u32 = u32::MAX;
    let mut kept = 0u32;
    for n in at.iter_mut() {
        if *n == 1 {
            *n = ALONE;
        } else {
            (*n, kept) = (kept, kept + *n);
        }
    }
    let mut out: Vec<Posting> = vec![(0, 0); kept as usize];
    for &p in v.iter() {
        let b = bucket(p.0);
        if at[b] == ALONE {
            single(p);
        } else {
            out[at[b] as usize] = p;
            at[b] += 1;
        }
    }
    let mut budget = 16 * out.len();
    for i in 1..out.len() {
        let x = out[i];
        let mut j = i;
        while j > 0 && out[j - 1].0 > x.0 {
            out[j] = out[j - 1];
            j -= 1;
        }
        out[j] = x;
        budget = budget.saturating_sub(i - j);
        if budget == 0 {
            out.sort_unstable_by_key(|p| p.0);
            break;
        }
    }
    *v = out;
}

/// Records split into `2^bits` partitions, each partition a list of chunks
/// in the order written.
pub(crate) struct Store<R: Record> {
    bits: u32,
    pending: Vec<Vec<u8>>,
    chunks: Vec<Vec<Chunk>>,
    cursors: Vec<R::Cursor>,
    count: u64,
}

/// Postings split by the top bits of their hash.
pub(crate) type Postings = Store<Posting>;

/// Postings split by the top bits of their hash, written in order of id
/// (see [`Ordered`]).
pub(crate) type OrderedPostings = Store<Ordered>;

impl Postings {
    /// Appends one posting to the partition of its hash.
    #[inline]
    pub fn push(&mut self, disk: &mut Disk, h: u64, id: u32) {
        let p = self.partition_of(h);
        self.push_to(disk, p, (h, id));
    }
}

impl OrderedPostings {
    /// Appends one posting to the partition of its hash.
    #[inline]
    pub fn push(&mut self, disk: &mut Disk, h: u64, id: u32) {
        let p = self.partition_of(h);
        self.push_to(disk, p, Ordered((h, id)));
    }
}

impl<R: Record> Store<R> {
    /// An empty store of `2^bits` partitions.
    pub fn new(bits: u32) -> Store<R> {
        let n = 1usize << bits;
        Store {
            bits,
            pending: (0..n).map(|_| Vec::new()).collect(),
            chunks: (0..n).map(|_| Vec::new()).collect(),
            cursors: (0..n).map(|p| R::cursor(p, bits)).collect(),
            count: 0,
        }
    }

    /// The partition of hash `h`: its top `bits` bits.
    #[inline]
    pub fn partition_of(&self, h: u64) -> usize {
        if self.bits == 0 {
            0
        } else {
            (h >> (64 - self.bits)) as usize
        }
    }

    /// Number of partitions.
    pub fn partitions(&self) -> usize {
        self.pending.len()
    }

    /// Records written.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Appends one record to partition `p`.
    #[inline]
    pub fn push_to(&mut self, disk: &mut Disk, p: usize, r: R) {
        let buf = &mut self.pending[p];
        if buf.capacity() == 0 {
            // A partition's chunks double from the smallest up to the
            // disk's size or `STORE_CHUNK_BYTES`, each allocated once at its
            // size and sealed when full: no chunk is grown by copying (fresh
            // pages are a cost of their own), and a small input keeps small
            // chunks.
            let sealed = self.chunks[p].len().min(16) as u32;
            buf.reserve_exact(
                (MIN_CHUNK_BYTES << sealed)
                    .min(disk.chunk)
                    .min(STORE_CHUNK_BYTES),
            );
        }
        r.encode(&mut self.cursors[p], buf);
        self.count += 1;
        if buf.len() + R::BYTES > buf.capacity() {
            let full = std::mem::take(buf);
            let c = disk.put(full);
            self.chunks[p].push(c);
        }
    }

    /// Partition `p`'s records in the order written (the chunks on disk
    /// read back). A read error is returned with what was read before it.
    pub fn read(&self, disk: &Disk, p: usize) -> (Vec<R>, Option<io::Error>) {
        read_chunks(
            &disk.reader(),
            &self.chunks[p],
            &self.pending[p],
            R::cursor(p, self.bits),
        )
    }

    /// Takes partition `p` out of the store (it is left empty), its memory
    /// given back to the disk's budget for the stores written next.
    pub fn take(&mut self, disk: &mut Disk, p: usize) -> Partition<R> {
        let chunks = std::mem::take(&mut self.chunks[p]);
        let held: usize = chunks
            .iter()
            .map(|c| match c {
                Chunk::Memory(bytes) => bytes.len(),
                Chunk::Disk { .. } => 0,
            })
            .sum();
        disk.in_memory = disk.in_memory.saturating_sub(held as u64);
        let start = R::cursor(p, self.bits);
        // Whatever is written to the partition next starts afresh.
        self.cursors[p] = start;
        Partition {
            chunks,
            pending: std::mem::take(&mut self.pending[p]),
            start,
        }
    }
}

/// One partition taken out of a [`Store`].
pub(crate) struct Partition<R: Record> {
    chunks: Vec<Chunk>,
    pending: Vec<u8>,
    start: R::Cursor,
}

impl<R: Record> Partition<R> {
    /// The records in the order written, as [`Store::read`].
    pub fn read(&self, reader: &Reader) -> (Vec<R>, Option<io::Error>) {
        read_chunks(reader, &self.chunks, &self.pending, self.start)
    }
}

/// The records of `chunks` then `pending`, in order, decoded from `cursor`
/// on; a read error is returned with what was read before it (records may
/// be coded against the ones before, so nothing after it is decoded).
fn read_chunks<R: Record>(
    reader: &Reader,
    chunks: &[Chunk],
    pending: &[u8],
    mut cursor: R::Cursor,
) -> (Vec<R>, Option<io::Error>) {
    // Room for as many records as the bytes can hold, made once: growing
    // the vector chunk by chunk copied it several times.
    let bytes: u64 = chunks
        .iter()
        .map(|c| match c {
            Chunk::Memory(b) => b.len() as u64,
            Chunk::Disk { len, .. } => *len,
        })
        .sum::<u64>()
        + pending.len() as u64;
    let mut out = Vec::with_capacity((bytes / R::MIN_BYTES as u64) as usize);
    let mut buf = Vec::new();
    for c in chunks {
        match c {
            Chunk::Memory(bytes) => R::decode_all(bytes, &mut cursor, &mut out),
            Chunk::Disk { offset, len } => match reader.read(*offset, *len as usize, &mut buf) {
                Ok(()) => R::decode_all(&buf, &mut cursor, &mut out),
                Err(e) => return (out, Some(e)),
            },
        }
    }
    R::decode_all(pending, &mut cursor, &mut out);
    (out, None)
}

/// Where one sequence sits.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    chunk: u32,
    /// Offset in the chunk, in u64 words.
    at: u32,
    len: u32,
}

/// A chunk of a [`Sequences`] store: words in memory, or their bytes at
/// `offset` of the temporary file.
enum WordChunk {
    Memory(Vec<u64>),
    Disk { offset: u64 },
}

/// Asks the processor for the first cache lines of `seq` at once (a hint:
/// nothing else changes). A sequence lent by a [`Sequences`] store is
/// mostly not in the cache, and is walked from start to end, so its lines
/// are better fetched together than one miss at a time: verification does
/// this for each partner and each loaded text, the passage stage for each
/// member.
#[inline]
pub(crate) fn prefetch(seq: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    for line in seq.chunks(8).take(PREFETCH_LINES) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of every x86-64 processor, and a prefetch
        // is a hint that never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = seq;
}

/// How many cache lines (of 64 bytes) of a sequence [`prefetch`] asks for.
const PREFETCH_LINES: usize = 64;

/// Sequences of u64 (shingle hashes in document order), one per id, read
/// back by id.
pub(crate) struct Sequences {
    chunks: Vec<WordChunk>,
    current: Vec<u64>,
    slots: Vec<Slot>,
}

impl Default for Sequences {
    fn default() -> Sequences {
        Sequences::new()
    }
}

impl Sequences {
    /// An empty store.
    pub fn new() -> Sequences {
        Sequences {
            chunks: Vec::new(),
            current: Vec::new(),
            slots: Vec::new(),
        }
    }

    /// Stores the next sequence; returns its id (0, 1, 2, … in order).
    pub fn push(&mut self, disk: &mut Disk, seq: &[u64]) -> u32 {
        let words = disk.chunk / 8;
        if !self.current.is_empty() && self.current.len() + seq.len() > words {
            self.seal(disk);
        }
        if self.current.capacity() == 0 {
            self.current.reserve_exact(words.max(seq.len()));
        }
        let at = self.current.len() as u32;
        self.current.extend_from_slice(seq);
        self.slots.push(Slot {
            chunk: self.chunks.len() as u32,
            at,
            len: seq.len() as u32,
        });
        (self.slots.len() - 1) as u32
    }

    fn seal(&mut self, disk: &mut Disk) {
        let full = std::mem::take(&mut self.current);
        let c = disk.put_words(full);
        self.chunks.push(c);
    }

    /// Closes the store for writing: the last chunk is kept in memory.
    pub fn finish(&mut self) {
        if !self.current.is_empty() {
            let last = std::mem::take(&mut self.current);
            self.chunks.push(WordChunk::Memory(last));
        }
    }

    /// Length of sequence `id`.
    pub fn len_of(&self, id: u32) -> usize {
        self.slots[id as usize].len as usize
    }

    /// Sequence `id` if it is in memory (not spilled, and the store
    /// finished), borrowed from the store.
    pub fn in_memory(&self, id: u32) -> Option<&[u64]> {
        let s = self.slots.get(id as usize)?;
        match self.chunks.get(s.chunk as usize)? {
            WordChunk::Memory(words) => words.get(s.at as usize..(s.at + s.len) as usize),
            WordChunk::Disk { .. } => None,
        }
    }

    /// Sequence `id`, copied into `out` (cleared first).
    pub fn get(&self, disk: &Disk, id: u32, out: &mut Vec<u64>) -> io::Result<()> {
        let mut buf = Vec::new();
        let s = self.view(disk, id, &mut buf)?;
        out.clear();
        out.extend_from_slice(s);
        Ok(())
    }

    /// Sequence `id`: in memory, borrowed from the store; on disk, read
    /// into `buf` and borrowed from it.
    pub fn view<'a>(
        &'a self,
        disk: &Disk,
        id: u32,
        buf: &'a mut Vec<u64>,
    ) -> io::Result<&'a [u64]> {
        let s = self.slots[id as usize];
        let (at, len) = (s.at as usize, s.len as usize);
        match &self.chunks[s.chunk as usize] {
            WordChunk::Memory(words) => Ok(&words[at..at + len]),
            WordChunk::Disk { offset } => {
                let mut bytes = Vec::new();
                disk.read(offset + at as u64 * 8, len * 8, &mut bytes)?;
                buf.clear();
                buf.extend(
                    bytes
                        .chunks_exact(8)
                        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))),
                );
                Ok(buf)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(budget: u64) -> Disk {
        Disk::new(SpillOptions { budget, dir: None })
    }

    #[test]
    fn postings_read_back_alike_from_memory_and_disk() {
        for budget in [0, 1_000_000, u64::MAX] {
            let mut d = disk(budget);
            let mut p = Postings::new(3);
            let mut want: Vec<Vec<Posting>> = vec![Vec::new(); 8];
            for i in 0..400_000u64 {
                let h = crate::hash::splitmix64(i);
                p.push(&mut d, h, i as u32);
                want[p.partition_of(h)].push((h, i as u32));
            }
            assert_eq!(p.len(), 400_000);
            for (part, w) in want.iter().enumerate() {
                let (got, err) = p.read(&d, part);
                assert!(err.is_none());
                assert_eq!(&got, w, "budget {budget} partition {part}");
            }
            assert_eq!(d.spilled > 0, budget < 4_000_000, "budget {budget}");
        }
    }

    #[test]
    fn ordered_postings_read_back_as_written_whatever_the_ids() {
        // Ids that stay, grow by a little, jump, fall and wrap, some marked;
        // with partitions of fewer than 8 bits (the hash's top byte then
        // written), exactly 8 and more.
        for bits in [0, 3, 8, 10] {
            for budget in [0, 1_000_000, u64::MAX] {
                let mut d = disk(budget);
                let mut p = OrderedPostings::new(bits);
                let mut want: Vec<Vec<Ordered>> = vec![Vec::new(); 1 << bits];
                let mut id = 0u32;
                for i in 0..300_000u64 {
                    let r = crate::hash::splitmix64(i ^ 0xD1CE);
                    id = match r % 100 {
                        0 => (r >> 40) as u32 & !MARK,
                        1 => id.saturating_sub(3),
                        2 => id.wrapping_add(126 + (r >> 60) as u32) & !MARK,
                        3 => MARK - 1,
                        _ => (id + (r >> 62) as u32) & !MARK,
                    };
                    let h = crate::hash::splitmix64(i);
                    let marked = id | if r & (1 << 20) != 0 { MARK } else { 0 };
                    p.push(&mut d, h, marked);
                    want[p.partition_of(h)].push(Ordered((h, marked)));
                }
                for (part, w) in want.iter().enumerate() {
                    let (got, err) = p.read(&d, part);
                    assert!(err.is_none());
                    assert_eq!(&got, w, "bits {bits} budget {budget} partition {part}");
                    let taken = p.take(&mut d, part);
                    assert_eq!(&taken.read(&d.reader()).0, w);
                }
            }
        }
    }

    #[test]
    fn ordered_postings_decode_cut_short_bytes_without_a_panic() {
        let mut c = Ordered::cursor(5, 8);
        let mut bytes = Vec::new();
        for (h, id) in [
            (5 << 56 | 1, 3),
            (5 << 56 | 2, 1000),
            (5 << 56 | 3, MARK | 1001),
        ] {
            Ordered((h, id)).encode(&mut c, &mut bytes);
        }
        // 8 bytes each, and 4 more for the jump.
        assert_eq!(bytes.len(), 8 + 12 + 8);
        let mut out = Vec::new();
        Ordered::decode_all(&bytes, &mut Ordered::cursor(5, 8), &mut out);
        assert_eq!(
            out.iter().map(|o| o.0.1).collect::<Vec<_>>(),
            [3, 1000, MARK | 1001]
        );
        for cut in 0..bytes.len() {
            let mut out = Vec::new();
            Ordered::decode_all(&bytes[..cut], &mut Ordered::cursor(5, 8), &mut out);
            assert!(out.len() <= 3);
        }
    }

    #[test]
    fn taken_partitions_read_alike_and_free_the_budget() {
        // 2 MB of postings under a 1.2 MB budget: some chunks spill.
        let mut d = disk(1_200_000);
        let mut p = Postings::new(2);
        for i in 0..170_000u64 {
            p.push(&mut d, crate::hash::splitmix64(i), i as u32);
        }
        let spilled = d.spilled;
        assert!(spilled > 0 && d.in_memory > 0);
        let want: Vec<Vec<Posting>> = (0..4).map(|q| p.read(&d, q).0).collect();
        for (q, w) in want.iter().enumerate() {
            let part = p.take(&mut d, q);
            let (got, err) = part.read(&d.reader());
            assert!(err.is_none());
            assert_eq!(&got, w, "partition {q}");
            assert!(p.read(&d, q).0.is_empty(), "partition {q} left empty");
        }
        // All the memory is back: the next store keeps its first megabyte.
        assert_eq!(d.in_memory, 0);
        let mut next = Postings::new(0);
        for i in 0..80_000u64 {
            next.push(&mut d, i, 0);
        }
        assert_eq!(d.spilled, spilled, "nothing more spilled");
    }

    #[test]
    fn bucketed_sort_groups_like_sort_unstable() {
        for n in [0usize, 10, 255, 256, 3_000, 20_000, 100_000, 400_000] {
            let v: Vec<Posting> = (0..n as u64)
                .map(|i| {
                    let h = crate::hash::splitmix64(i / 3);
                    // One partition's hashes: the top 8 bits fixed.
                    ((h >> 8) | (0xA5 << 56), (i % 7) as u32)
                })
                .collect();
            assert_groups_by_hash(v);
        }
    }

    /// `sort_postings` (8 bits known) leaves `v`'s postings in order of
    /// hash, the ids of each hash in any order, but for postings given to
    /// `single`, each of a hash no other posting has; returns how many
    /// those are.
    fn assert_groups_by_hash(mut v: Vec<Posting>) -> usize {
        let mut want = v.clone();
        want.sort_unstable();
        let mut singles = Vec::new();
        sort_postings(&mut v, 8, |p| singles.push(p));
        assert!(v.is_sorted_by_key(|p| p.0), "{} postings", v.len());
        for s in &singles {
            let held = want.iter().filter(|p| p.0 == s.0).count();
            assert_eq!(held, 1, "a posting left out shares its hash");
        }
        v.extend_from_slice(&singles);
        v.sort_unstable();
        assert_eq!(v, want, "the same postings");
        singles.len()
    }

    #[test]
    fn bucketed_sort_gives_most_postings_of_a_hash_held_once_to_single() {
        // Most hashes once, some three times (as shingles of one text, or
        // of a few): many of those held once come out alone.
        for n in [50usize, 3_000, 100_000] {
            let v: Vec<Posting> = (0..n as u64)
                .map(|i| {
                    let key = if i % 5 == 0 { i / 15 * 15 } else { i };
                    let h = crate::hash::splitmix64(key);
                    ((h >> 8) | (0xA5 << 56), (i % 11) as u32)
                })
                .collect();
            let held_once = n - n.div_ceil(5);
            let singles = assert_groups_by_hash(v);
            if n >= 64 {
                assert!(singles > held_once / 4, "{singles} of {held_once} left out");
            }
        }
    }

    #[test]
    fn bucketed_sort_sorts_hashes_that_share_one_bucket() {
        // Hashes differing only in their low bits, in descending order: one
        // bucket, every insertion a long move, so the pass gives up and
        // sorts by comparison.
        for n in [100usize, 5_000, 60_000] {
            let v: Vec<Posting> = (0..n as u64)
                .rev()
                .map(|i| ((0xA5 << 56) | (i / 2), i as u32))
                .collect();
            assert_groups_by_hash(v);
        }
    }

    #[test]
    fn sequences_read_back_alike_from_memory_and_disk() {
        for budget in [0, 300_000, u64::MAX] {
            let mut d = disk(budget);
            let mut s = Sequences::new();
            let seqs: Vec<Vec<u64>> = (0..3000u64)
                .map(|i| (0..(i * 7919) % 500).map(|j| i * 1000 + j).collect())
                .chain(std::iter::once((0..100_000u64).collect()))
                .collect();
            for q in &seqs {
                s.push(&mut d, q);
            }
            s.finish();
            let mut buf = Vec::new();
            let mut in_memory = 0;
            for (id, q) in seqs.iter().enumerate() {
                s.get(&d, id as u32, &mut buf).unwrap();
                assert_eq!(&buf, q, "budget {budget} id {id}");
                assert_eq!(s.len_of(id as u32), q.len());
                // What is in memory is lent as it is; what spilled is not.
                if let Some(m) = s.in_memory(id as u32) {
                    assert_eq!(m, &q[..], "budget {budget} id {id}");
                    in_memory += 1;
                }
            }
            match budget {
                0 => assert!(in_memory < seqs.len() / 10, "{in_memory}"),
                u64::MAX => assert_eq!(in_memory, seqs.len()),
                _ => assert!(in_memory > 0 && in_memory < seqs.len(), "{in_memory}"),
            }
            assert!(s.in_memory(seqs.len() as u32).is_none());
        }
    }

    #[test]
    fn an_unwritable_folder_keeps_everything_in_memory() {
        let mut d = Disk::new(SpillOptions {
            budget: 0,
            dir: Some(PathBuf::from("/nonexistent/storyclust-test")),
        });
        let mut s = Sequences::new();
        s.push(&mut d, &[1, 2, 3]);
        s.push(&mut d, &vec![7; CHUNK_BYTES / 8 + 1]);
        s.finish();
        assert!(d.error.is_some());
        let mut buf = Vec::new();
        s.get(&d, 0, &mut buf).unwrap();
        assert_eq!(buf, [1, 2, 3]);
    }
}
