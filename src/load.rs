//! Stage 1: find the article files and read them into text.
//!
//! Folders are walked recursively; single files are taken as given. Files are
//! ordered the natural way: by the number their name starts with (`2_x.txt`
//! before `10_x.txt`), then by name, then by full path; files whose name does
//! not start with a digit come last.
//!
//! Decoding: valid UTF-8 is used as is (a leading byte-order mark is skipped).
//! Anything else is decoded as Windows-1252, one character per byte, and an
//! offset map keeps every reported byte offset pointing into the file's own
//! bytes. A file holding a NUL byte is treated as binary and skipped.

use std::fs;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::LoadError;

/// The largest file the offsets can address (32-bit offsets into the text).
pub const MAX_FILE_BYTES: u64 = (u32::MAX / 4) as u64;

/// How a file's bytes were turned into text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// Valid UTF-8 without a byte-order mark.
    Utf8,
    /// Valid UTF-8 after a 3-byte byte-order mark, which is skipped.
    Utf8Bom,
    /// Not valid UTF-8: decoded as Windows-1252 (a superset of Latin-1 for text).
    Windows1252,
}

/// The text of one article and the way back to its file's bytes.
#[derive(Debug)]
pub struct Text {
    /// The decoded text.
    pub text: String,
    /// How the bytes were decoded.
    pub encoding: Encoding,
    /// For Windows-1252: `map[i]` is the file offset of the text's byte `i`
    /// (`map.len() == text.len() + 1`).
    map: Vec<u32>,
}

impl Text {
    /// Translates a byte offset in [`Text::text`] into a byte offset in the file.
    pub fn file_offset(&self, pos: usize) -> usize {
        match self.encoding {
            Encoding::Utf8 => pos,
            Encoding::Utf8Bom => pos + 3,
            Encoding::Windows1252 => self.map[pos] as usize,
        }
    }
}

/// Windows-1252 code points for bytes 0x80..=0x9F (undefined bytes map to
/// the C1 control of the same value, as the WHATWG decoder does).
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{8D}', '\u{017D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{9D}', '\u{017E}', '\u{0178}',
];

fn cp1252(b: u8) -> char {
    match b {
        0x80..=0x9F => CP1252_HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// Decodes a file's bytes. Fails only on binary content (a NUL byte).
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<Text, LoadError> {
    if let Some(pos) = memchr::memchr(0, &bytes) {
        return Err(LoadError::Binary {
            path: path.to_path_buf(),
            offset: pos as u64,
        });
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if bom {
                text.drain(..3);
            }
            Ok(Text {
                text,
                encoding: if bom {
                    Encoding::Utf8Bom
                } else {
                    Encoding::Utf8
                },
                map: Vec::new(),
            })
        }
        Err(e) => {
            let bytes = e.into_bytes();
            let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
            let mut map = Vec::with_capacity(bytes.len() + bytes.len() / 8 + 1);
            for (i, &b) in bytes.iter().enumerate() {
                let c = cp1252(b);
                for _ in 0..c.len_utf8() {
                    map.push(i as u32);
                }
                text.push(c);
            }
            map.push(bytes.len() as u32);
            Ok(Text {
                text,
                encoding: Encoding::Windows1252,
                map,
            })
        }
    }
}

/// Decodes the bytes of one file read elsewhere (a distributed run ships
/// them), refusing more than `max_bytes` as [`read`] does.
pub fn from_bytes(path: &Path, bytes: Vec<u8>, max_bytes: u64) -> Result<Text, LoadError> {
    if bytes.len() as u64 > max_bytes {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit: max_bytes,
        });
    }
    decode(path, bytes)
}

/// Bytes read from a file before its size is asked for: nearly every
/// article fits, and is then read with no `stat` call.
const FIRST_READ: usize = 1 << 18;

/// Reads and decodes one file, refusing files over `max_bytes` after
/// reading at most their first [`FIRST_READ`] bytes (memory stays bounded
/// whatever the input holds).
///
/// A file that fits in the first read costs four system calls (open, read,
/// the read that finds its end, close): the size is asked for only when it
/// does not, which saves a fifth on every article of a typical corpus.
pub fn read(path: &Path, max_bytes: u64) -> Result<Text, LoadError> {
    read_noting(path, max_bytes, None)
}

/// How many files a stage's reads found not in memory (the system's page
/// cache) since [`Prefetch::keep_ahead`] last looked: shared by the threads
/// that read, counted by [`read_noting`].
#[derive(Debug, Default)]
pub struct Cold(std::sync::atomic::AtomicU32);

impl Cold {
    /// Counts one file found not in memory.
    pub fn note(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The files counted since the last call, counting anew from 0.
    pub fn take(&self) -> u32 {
        self.0.swap(0, std::sync::atomic::Ordering::Relaxed)
    }
}

/// [`read`], and when `cold` is given, counts the file there if its first
/// bytes were not in memory (the system's page cache) and had to be waited
/// for: the sign that reading ahead would pay (see [`Prefetch`]). Asking
/// costs nothing: the first read is made without waiting (`RWF_NOWAIT`),
/// and only when that finds nothing in memory is it made again, waiting.
pub fn read_noting(path: &Path, max_bytes: u64, cold: Option<&Cold>) -> Result<Text, LoadError> {
    use std::io::Read;
    let io = |e| LoadError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut file = fs::File::open(path).map_err(io)?;
    // Never read past the limit, even of a file that grows meanwhile.
    let first = FIRST_READ.min(max_bytes as usize + 1);
    // The first bytes, and whether they are all of the file.
    let (mut bytes, whole) = FIRST.with_borrow_mut(|buf| {
        buf.resize(first, 0);
        let mut len = 0;
        if let Some(cold) = cold {
            match read_if_in_memory(&file, &mut buf[..first]) {
                InMemory::Read(0) => return Ok((Vec::new(), true)),
                InMemory::Read(n) => len = n,
                InMemory::Nothing => cold.note(),
                InMemory::Unknown => {}
            }
        }
        while len < first {
            match file.read(&mut buf[len..]) {
                Ok(0) => return Ok((buf[..len].to_vec(), true)),
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok((buf.to_vec(), false))
    })?;
    if !whole {
        // A long file: its size, to refuse it before reading the rest.
        let size = file.metadata().map_err(io)?.len();
        if size > max_bytes {
            return Err(LoadError::TooLarge {
                path: path.to_path_buf(),
                size,
                limit: max_bytes,
            });
        }
        bytes.reserve_exact((size as usize).saturating_sub(bytes.len()));
        let left = max_bytes + 1 - bytes.len() as u64;
        file.take(left).read_to_end(&mut bytes).map_err(io)?;
    }
    // (A file that grew past the limit after its size was taken is refused
    // there.)
    from_bytes(path, bytes, max_bytes)
}

/// What a read that does not wait found.
enum InMemory {
    /// This many bytes (0: the end of the file).
    Read(usize),
    /// Nothing in memory: the disk must be waited for.
    Nothing,
    /// The system cannot tell (or the read failed): read as usual.
    Unknown,
}

/// Reads into `buf`, from the file's position, what is already in memory,
/// without waiting for the disk.
#[cfg(target_os = "linux")]
fn read_if_in_memory(file: &fs::File, buf: &mut [u8]) -> InMemory {
    use std::os::fd::AsRawFd;
    let iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: `iov` describes `buf`, which outlives the call; offset -1
    // reads from (and moves) the file's position, as `read` does.
    let n = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, -1, libc::RWF_NOWAIT) };
    match usize::try_from(n) {
        Ok(n) => InMemory::Read(n),
        Err(_) if std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock => {
            InMemory::Nothing
        }
        Err(_) => InMemory::Unknown,
    }
}

#[cfg(not(target_os = "linux"))]
fn read_if_in_memory(_: &fs::File, _: &mut [u8]) -> InMemory {
    InMemory::Unknown
}

/// Files of one batch that must have been found not in memory before
/// [`Prefetch::keep_ahead`] starts reading ahead. Reading ahead opens every
/// file of the batches that follow on a thread of its own (about 4 µs of
/// system time a file, for each file in memory too), while a file read
/// from the disk costs its reader 0.1–0.2 ms: worth it for a folder that
/// is mostly out of memory, not for one whose page cache lost a few files
/// (seen here in one run in four or five: 1 to 14 files of 18,846 lost,
/// for which reading ahead opened 8,000 to 18,000 files again).
pub const COLD_FILES: u32 = 8;

/// Reads files ahead of their use, on a thread of its own, for a run that
/// has met files that were not in memory ([`read_noting`], [`COLD_FILES`]): the system is asked to bring each
/// file into its page cache (`posix_fadvise(WILLNEED)`), which starts the
/// disk reads without waiting for them, so that many are under way at once
/// instead of one per worker. A folder not read for a while (or just
/// copied in) is read several times faster; a folder already in memory
/// never starts the thread. What is read never depends on it.
pub struct Prefetch {
    queue: Option<std::sync::mpsc::Sender<Vec<PathBuf>>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Whether [`Prefetch::keep_ahead`] has begun reading ahead.
    following: bool,
}

impl Default for Prefetch {
    fn default() -> Prefetch {
        Prefetch::new()
    }
}

impl Prefetch {
    /// A prefetcher with no thread yet.
    pub fn new() -> Prefetch {
        Prefetch {
            queue: None,
            thread: None,
            following: false,
        }
    }

    /// For a stage that reads its files batch by batch, called before each
    /// batch: once a batch had [`COLD_FILES`] or more files that were not
    /// in memory (`cold`, counted since the last call), asks for the files
    /// of the batch after (`next`) to be read ahead, and the first time
    /// also those of the batch about to be read (`now`), which the thread
    /// can still get ahead of; from then on, for every batch. Until then
    /// nothing is asked.
    pub fn keep_ahead(
        &mut self,
        cold: &Cold,
        now: impl FnOnce() -> Vec<PathBuf>,
        next: impl FnOnce() -> Vec<PathBuf>,
    ) {
        if !self.following {
            if cold.take() < COLD_FILES {
                return;
            }
            self.following = true;
            self.ahead(now());
        }
        self.ahead(next());
    }

    /// Asks for `paths` to be read ahead, in order, after those asked for
    /// before (nothing happens where the system cannot read ahead).
    pub fn ahead(&mut self, paths: Vec<PathBuf>) {
        if !cfg!(target_os = "linux") || paths.is_empty() {
            return;
        }
        if self.queue.is_none() {
            let (tx, rx) = std::sync::mpsc::channel::<Vec<PathBuf>>();
            let spawned = std::thread::Builder::new()
                .name("storyclust-prefetch".into())
                .spawn(move || {
                    for paths in rx {
                        for p in paths {
                            advise_will_need(&p);
                        }
                    }
                });
            match spawned {
                Ok(t) => {
                    self.queue = Some(tx);
                    self.thread = Some(t);
                }
                // No thread: the files are read as they come.
                Err(_) => return,
            }
        }
        if let Some(q) = &self.queue {
            let _ = q.send(paths);
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.queue = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for Prefetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefetch")
            .field("started", &self.thread.is_some())
            .finish()
    }
}

/// Starts bringing a file into the page cache; a file that cannot be
/// opened is left alone (reading it reports the problem). Opened without
/// blocking, so that a named pipe given as an article does not hold the
/// thread until something writes to it.
#[cfg(target_os = "linux")]
fn advise_will_need(path: &Path) {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let opened = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path);
    if let Ok(f) = opened {
        // SAFETY: a plain system call on a descriptor `f` owns.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_WILLNEED) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_will_need(_: &Path) {}

thread_local! {
    /// Each thread's buffer for the first read of a file.
    static FIRST: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The sort key of a file: its leading number (if any), then its name and path.
pub(crate) fn order_key(path: &Path) -> (bool, u128, String, PathBuf) {
    let (unnumbered, n, name) = name_key(path);
    (unnumbered, n, name.into_owned(), path.to_path_buf())
}

/// [`order_key`] without the path, borrowing the name when it is UTF-8.
fn name_key(path: &Path) -> (bool, u128, std::borrow::Cow<'_, str>) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let digits = &name[..name.bytes().take_while(u8::is_ascii_digit).count()];
    match digits.trim_start_matches('0').parse::<u128>() {
        Ok(n) => (false, n, name),
        Err(_) if !digits.is_empty() && digits.len() <= 39 => (false, 0, name),
        Err(_) => (true, 0, name),
    }
}

/// `files` in the order of [`order_key`], each path once (as
/// `sort_by_cached_key(order_key)` then `dedup` would give them), without
/// a copy of any name or path (20 Newsgroups' 18,846 files: about 6 ms
/// instead of 10).
fn sort_natural(mut files: Vec<PathBuf>) -> Vec<PathBuf> {
    let order: Vec<u32> = {
        let keys: Vec<_> = files.iter().map(|p| name_key(p)).collect();
        let mut order: Vec<u32> = (0..files.len() as u32).collect();
        let same = |a: u32, b: u32| keys[a as usize] == keys[b as usize];
        order.sort_unstable_by(|&a, &b| {
            keys[a as usize]
                .cmp(&keys[b as usize])
                .then_with(|| files[a as usize].cmp(&files[b as usize]))
                .then(a.cmp(&b))
        });
        // Equal paths have equal names, so the names are compared first.
        order.dedup_by(|b, a| same(*a, *b) && files[*a as usize] == files[*b as usize]);
        order
    };
    order
        .into_iter()
        .map(|i| std::mem::take(&mut files[i as usize]))
        .collect()
}

/// Lists the article files under `paths`: folders recursively (following no
/// symbolic links into loops), files as given when their extension matches or
/// when they were named explicitly. Returns the files in natural order and the
/// problems met on the way (a missing path, an unreadable folder, a loop).
pub fn discover(paths: &[PathBuf], exts: &[String]) -> (Vec<PathBuf>, Vec<LoadError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let wanted = |p: &Path| {
        p.extension()
            .map(|e| {
                let e = e.to_string_lossy();
                exts.iter().any(|x| x.eq_ignore_ascii_case(&e))
            })
            .unwrap_or(false)
    };
    for root in paths {
        match fs::metadata(root) {
            Err(e) => {
                errors.push(LoadError::Io {
                    path: root.clone(),
                    source: e,
                });
                continue;
            }
            Ok(m) if m.is_file() => {
                files.push(root.clone());
                continue;
            }
            Ok(_) => {}
        }
        // Fast path: a walk that does not follow links, with the links
        // looked up afterwards in parallel (a folder of links to articles
        // costs one stat each, in a row, when the walk follows them). If
        // the walk meets a problem or a link that is not to a file, the
        // folder is walked again following links, as it always was.
        if let Some(found) = walk_without_links(root, &wanted) {
            files.extend(found);
            continue;
        }
        for entry in WalkDir::new(root).follow_links(true) {
            match entry {
                Ok(e) => {
                    if e.file_type().is_file() && wanted(e.path()) {
                        files.push(e.into_path());
                    }
                }
                Err(e) => {
                    let path = e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| root.clone());
                    errors.push(LoadError::Walk {
                        path,
                        message: walk_message(&e),
                    });
                }
            }
        }
    }
    (sort_natural(files), errors)
}

/// The wanted files under `root` when no link in it leads to anything but
/// a file and the walk meets no problem; `None` otherwise.
fn walk_without_links(
    root: &Path,
    wanted: &(dyn Fn(&Path) -> bool + Sync),
) -> Option<Vec<PathBuf>> {
    use rayon::prelude::*;
    let mut files = Vec::new();
    let mut links = Vec::new();
    for entry in WalkDir::new(root).follow_links(false) {
        let e = entry.ok()?;
        let t = e.file_type();
        if t.is_symlink() {
            links.push(e.into_path());
        } else if t.is_file() && wanted(e.path()) {
            files.push(e.into_path());
        }
    }
    let linked: Option<Vec<Option<PathBuf>>> = links
        .into_par_iter()
        .map(|p| match fs::metadata(&p) {
            Ok(m) if m.is_file() => Some(wanted(&p).then_some(p)),
            _ => None,
        })
        .collect();
    files.extend(linked?.into_iter().flatten());
    Some(files)
}

fn walk_message(e: &walkdir::Error) -> String {
    if let Some(ancestor) = e.loop_ancestor() {
        return format!(
            "symbolic link loop back to {}, not followed",
            ancestor.display()
        );
    }
    match e.io_error() {
        Some(io) => io.to_string(),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_puts_2_before_10_and_unnumbered_last() {
        let mut v: Vec<PathBuf> = ["b.txt", "10_x.txt", "2_x.txt", "a.txt", "002_a.txt"]
            .iter()
            .map(PathBuf::from)
            .collect();
        v.sort_by_cached_key(|p| order_key(p));
        let names: Vec<_> = v.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            ["002_a.txt", "2_x.txt", "10_x.txt", "a.txt", "b.txt"]
        );
    }

    proptest::proptest! {
        /// The sort without copies gives what sorting by `order_key` and
        /// removing repeats gives, for names with and without numbers (long
        /// ones, zeros), the same name in two folders, repeated and
        /// equivalent paths, and names that are not UTF-8.
        #[test]
        fn natural_sort_matches_sorting_by_order_key(
            picks in proptest::collection::vec((0usize..4, 0usize..12), 0..60)
        ) {
            use std::os::unix::ffi::OsStrExt;
            let names: [&[u8]; 12] = [
                b"2_a.txt", b"10_a.txt", b"002_a.txt", b"000.txt", b"a.txt", b"b.txt",
                b"340282366920938463463374607431768211456_x.txt",
                b"0000000000000000000000000000000000000000000000001_y.txt",
                b"1234567890123456789012345678901234567890_z.txt",
                b"7_\xff.txt", b"7_\xfe.txt", b"\xc3\xa9.txt",
            ];
            let dirs = ["d", "d/e", "d//e", "./d"];
            let files: Vec<PathBuf> = picks
                .iter()
                .map(|&(d, n)| {
                    Path::new(dirs[d]).join(std::ffi::OsStr::from_bytes(names[n]))
                })
                .collect();
            let mut want = files.clone();
            want.sort_by_cached_key(|p| order_key(p));
            want.dedup();
            let got = sort_natural(files);
            proptest::prop_assert_eq!(
                got.iter().map(|p| p.as_os_str()).collect::<Vec<_>>(),
                want.iter().map(|p| p.as_os_str()).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn read_takes_whole_files_on_both_sides_of_the_first_read() {
        let dir = tempfile::tempdir().unwrap();
        for len in [
            0,
            1,
            FIRST_READ - 1,
            FIRST_READ,
            FIRST_READ + 1,
            3 * FIRST_READ + 7,
        ] {
            let bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let path = dir.path().join(format!("{len}.txt"));
            fs::write(&path, &bytes).unwrap();
            let t = read(&path, 64 << 20).unwrap();
            assert_eq!(t.text.as_bytes(), &bytes[..], "{len} bytes");
            // The same when the first read is made without waiting.
            let cold = Cold::default();
            let t = read_noting(&path, 64 << 20, Some(&cold)).unwrap();
            assert_eq!(t.text.as_bytes(), &bytes[..], "{len} bytes, not waiting");
            // The limit is inclusive: a file of exactly the limit is read,
            // one byte more is refused with the file's size.
            if len > 0 {
                assert_eq!(read(&path, len as u64).unwrap().text.len(), len);
                match read(&path, len as u64 - 1) {
                    Err(LoadError::TooLarge { size, limit, .. }) => {
                        assert_eq!((size, limit), (len as u64, len as u64 - 1));
                    }
                    other => panic!("{len} bytes under a limit of {}: {other:?}", len - 1),
                }
            }
        }
        assert!(matches!(
            read(&dir.path().join("missing.txt"), 100),
            Err(LoadError::Io { .. })
        ));
    }

    /// A file just read is in memory: reading it again is not noted as
    /// cold. One dropped from memory (`POSIX_FADV_DONTNEED` after `fsync`)
    /// is, where the system can tell (asserted on ext4), and is read whole.
    #[test]
    fn a_file_not_in_memory_is_noted_as_cold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        let text = "Wire copy that was read a while ago. ".repeat(5000);
        fs::write(&path, &text).unwrap();
        read(&path, 1 << 20).unwrap();
        let cold = Cold::default();
        assert_eq!(read_noting(&path, 1 << 20, Some(&cold)).unwrap().text, text);
        assert_eq!(cold.take(), 0, "a file just read is in memory");
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let f = fs::File::open(&path).unwrap();
            f.sync_all().unwrap();
            // SAFETY: plain system calls on descriptors these values own.
            let (dropped, ext4) = unsafe {
                let dropped =
                    libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) == 0;
                let mut st: libc::statfs = std::mem::zeroed();
                let ext4 = libc::fstatfs(f.as_raw_fd(), &mut st) == 0 && st.f_type == 0xEF53;
                (dropped, ext4)
            };
            drop(f);
            assert_eq!(read_noting(&path, 1 << 20, Some(&cold)).unwrap().text, text);
            if dropped && ext4 {
                assert_eq!(cold.take(), 1, "dropped from memory");
                assert_eq!(cold.take(), 0, "counted once");
            }
        }
    }

    /// Reading ahead starts with the first batch that met [`COLD_FILES`]
    /// files not in memory, asking for that batch and the next, and then
    /// goes on for every batch; fewer cold files ask for nothing.
    #[test]
    fn reading_ahead_starts_once_enough_of_a_batch_was_cold() {
        let asked = std::cell::RefCell::new(Vec::new());
        let paths = |tag: &'static str| {
            let asked = &asked;
            move || {
                asked.borrow_mut().push(tag);
                Vec::new() // (no path: no thread is started)
            }
        };
        let cold = Cold::default();
        let mut p = Prefetch::new();
        for _ in 0..COLD_FILES - 1 {
            cold.note();
        }
        p.keep_ahead(&cold, paths("now 1"), paths("next 1"));
        assert!(asked.borrow().is_empty(), "{:?}", asked.borrow());
        // The count starts again for each batch: seven more are not enough.
        for _ in 0..COLD_FILES - 1 {
            cold.note();
        }
        p.keep_ahead(&cold, paths("now 2"), paths("next 2"));
        assert!(asked.borrow().is_empty(), "{:?}", asked.borrow());
        for _ in 0..COLD_FILES {
            cold.note();
        }
        p.keep_ahead(&cold, paths("now 3"), paths("next 3"));
        assert_eq!(*asked.borrow(), ["now 3", "next 3"]);
        // Once started, every following batch is read ahead.
        p.keep_ahead(&cold, paths("now 4"), paths("next 4"));
        assert_eq!(*asked.borrow(), ["now 3", "next 3", "next 4"]);
    }

    /// The thread reading ahead opens a named pipe without waiting for a
    /// writer, and passes over a missing file: it ends when dropped.
    #[cfg(target_os = "linux")]
    #[test]
    fn reading_ahead_never_waits_on_a_pipe() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.txt");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let file = dir.path().join("a.txt");
        fs::write(&file, "text").unwrap();
        let paths = vec![fifo, dir.path().join("missing.txt"), file];
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut p = Prefetch::new();
            p.ahead(paths);
            drop(p);
            tx.send(()).unwrap();
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_secs(30)).is_ok(),
            "reading ahead waits on the pipe"
        );
    }

    #[test]
    fn bom_is_skipped_and_offsets_shift() {
        let t = decode(Path::new("x"), b"\xEF\xBB\xBFabc".to_vec()).unwrap();
        assert_eq!(t.text, "abc");
        assert_eq!(t.encoding, Encoding::Utf8Bom);
        assert_eq!(t.file_offset(1), 4);
    }

    #[test]
    fn invalid_utf8_is_windows_1252_with_honest_offsets() {
        let t = decode(Path::new("x"), b"caf\xE9 \x93ok\x94".to_vec()).unwrap();
        assert_eq!(t.encoding, Encoding::Windows1252);
        assert_eq!(t.text, "caf\u{e9} \u{201c}ok\u{201d}");
        // 'o' of "ok" is byte 6 of the file, after a 3-byte quote in the text.
        let pos = t.text.find("ok").unwrap();
        assert_eq!(t.file_offset(pos), 6);
        assert_eq!(t.file_offset(t.text.len()), 9);
    }

    #[test]
    fn nul_byte_means_binary() {
        let e = decode(Path::new("bin.txt"), b"ab\0cd".to_vec()).unwrap_err();
        assert!(e.to_string().contains("bin.txt"), "{e}");
        assert!(e.to_string().contains("binary"), "{e}");
    }
}
