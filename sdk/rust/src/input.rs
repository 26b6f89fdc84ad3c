//! The analyze input ("TMK1", ABI.md §3), viewed in place: columns are
//! `&[f64]` slices of the buffer, strings are `&str` slices of it.

use crate::{Error, Status};

/// Header flag: the declared history could not be fetched in full.
pub const FLAG_HISTORY_INCOMPLETE: u32 = 1;
/// Header flag: history frames are "the same window at an offset".
pub const FLAG_HISTORY_OFFSET: u32 = 2;
/// Frame flag: nothing was stored for this window (all values NaN).
pub const FRAME_MISSING: u32 = 1;

const HEADER: usize = 64;
const FRAME_HEADER: usize = 24;

#[cfg(target_endian = "big")]
compile_error!("tidemark: the ABI is little-endian and columns are viewed in place");

/// A growable byte buffer whose start is 8-byte aligned (it is backed by
/// `u64`s), so f64 columns can be viewed in place. The SDK reads each input
/// into one and reuses it: it grows, never shrinks.
#[derive(Default)]
pub struct AlignedBuf {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBuf {
    pub const fn new() -> Self {
        AlignedBuf { words: Vec::new(), len: 0 }
    }

    /// A buffer holding a copy of `b`.
    pub fn from_bytes(b: &[u8]) -> Self {
        let mut a = AlignedBuf::new();
        a.as_mut_bytes(b.len()).copy_from_slice(b);
        a
    }

    /// The first `n` bytes, writable (contents unspecified until written);
    /// the length becomes `n`.
    pub fn as_mut_bytes(&mut self, n: usize) -> &mut [u8] {
        let words = (n + 7) / 8;
        if self.words.len() < words {
            self.words.resize(words.max(2 * self.words.len()), 0);
        }
        self.len = n;
        // Safety: u64 storage of at least n bytes; u8 has no alignment or
        // validity requirements.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_mut_ptr() as *mut u8, n) }
    }

    pub fn as_bytes(&self) -> &[u8] {
        // Safety: as in as_mut_bytes.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr() as *const u8, self.len) }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[inline]
fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

#[inline]
fn i64_at(b: &[u8], off: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    i64::from_le_bytes(a)
}

/// One analyze call's input: the window that closed (frame 0) and its
/// history (frames 1.., newest first), all in frame 0's series order.
/// Everything borrows the input buffer and is valid for the call.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    b: &'a [u8],
    major: u16,
    minor: u16,
    flags: u32,
    window_start: i64,
    window_end: i64,
    nstr: usize,
    str_data: usize,
    tags: usize,
    fields: usize,
    series: usize,
    frames: usize,
    series_off: usize,
    frames_off: usize,
    stride: usize,
}

fn malformed(msg: String) -> Error {
    Error::with_status(Status::InvalidArgument, format!("malformed input: {}", msg))
}

impl<'a> Input<'a> {
    /// Checks `b` against the layout (every rule of ABI.md §3.5) and views
    /// it. `b` must start at an 8-byte aligned address (see [`AlignedBuf`]).
    pub fn parse(b: &'a [u8]) -> Result<Input<'a>, Error> {
        if b.as_ptr() as usize % 8 != 0 {
            return Err(malformed("buffer is not 8-byte aligned".into()));
        }
        if b.len() < HEADER {
            return Err(malformed(format!("{} bytes is shorter than the header", b.len())));
        }
        if &b[0..4] != b"TMK1" {
            return Err(malformed("bad magic".into()));
        }
        let major = u16::from_le_bytes([b[4], b[5]]);
        let minor = u16::from_le_bytes([b[6], b[7]]);
        if major != 1 {
            return Err(malformed(format!("version {}.{}, this SDK reads 1.x", major, minor)));
        }
        let total = u32_at(b, 12) as u64;
        if total > b.len() as u64 || total < HEADER as u64 {
            return Err(malformed(format!("total length {}, have {} bytes", total, b.len())));
        }
        let b = &b[..total as usize];
        let nstr = u32_at(b, 32) as u64;
        let tags = u32_at(b, 36) as u64;
        let fields = u32_at(b, 40) as u64;
        let series = u32_at(b, 44) as u64;
        let frames = u32_at(b, 48) as u64;
        let series_off = u32_at(b, 52) as u64;
        let frames_off = u32_at(b, 56) as u64;
        let stride = u32_at(b, 60) as u64;

        if nstr < 2 + tags + fields {
            return Err(malformed(format!("{} strings cannot hold the {} tag and {} field names", nstr, tags, fields)));
        }
        let str_data = HEADER as u64 + 4 * (nstr + 1);
        if str_data > total {
            return Err(malformed("string offsets run past the end".into()));
        }
        if u32_at(b, HEADER) != 0 {
            return Err(malformed("string offset 0 is not 0".into()));
        }
        let mut prev = 0u32;
        for i in 1..=nstr as usize {
            let o = u32_at(b, HEADER + 4 * i);
            if o < prev {
                return Err(malformed(format!("string offset {} decreases", i)));
            }
            prev = o;
        }
        let str_end = str_data + prev as u64;
        if str_end > total {
            return Err(malformed("string bytes run past the end".into()));
        }
        if series_off % 8 != 0 || series_off < str_end {
            return Err(malformed(format!("series table offset {}", series_off)));
        }
        let series_end = series_off + 4 * series * tags;
        if series_end > total {
            return Err(malformed("series table runs past the end".into()));
        }
        let mut p = series_off as usize;
        while p < series_end as usize {
            if u32_at(b, p) as u64 >= nstr {
                return Err(malformed(format!("series table entry at {} is not a string index", p)));
            }
            p += 4;
        }
        if frames < 1 {
            return Err(malformed("no frame 0".into()));
        }
        if frames_off % 8 != 0 || frames_off < series_end {
            return Err(malformed(format!("frames offset {}", frames_off)));
        }
        // Bounds 8·F·S below 2^32, so no product below can overflow (Go's
        // decoder has the same rule).
        if fields != 0 && series > (u32::MAX as u64 / 8) / fields {
            return Err(malformed(format!("{} fields × {} series overflow", fields, series)));
        }
        if stride % 8 != 0 || stride < FRAME_HEADER as u64 + 8 * fields * series {
            return Err(malformed(format!("frame stride {} too small", stride)));
        }
        if frames_off > total || frames > (total - frames_off) / stride {
            return Err(malformed("frames run past the end".into()));
        }
        Ok(Input {
            b,
            major,
            minor,
            flags: u32_at(b, 8),
            window_start: i64_at(b, 16),
            window_end: i64_at(b, 24),
            nstr: nstr as usize,
            str_data: str_data as usize,
            tags: tags as usize,
            fields: fields as usize,
            series: series as usize,
            frames: frames as usize,
            series_off: series_off as usize,
            frames_off: frames_off as usize,
            stride: stride as usize,
        })
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.b
    }

    pub fn version(&self) -> (u16, u16) {
        (self.major, self.minor)
    }

    /// Header flags (`FLAG_*`); unknown bits are reserved.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// The declared history could not be fetched in full: do not alert on a
    /// baseline you do not have.
    pub fn history_incomplete(&self) -> bool {
        self.flags & FLAG_HISTORY_INCOMPLETE != 0
    }

    /// History is "the same window at an offset" rather than "the last N".
    pub fn history_offset(&self) -> bool {
        self.flags & FLAG_HISTORY_OFFSET != 0
    }

    /// Start of the closed window, ns since the epoch (inclusive).
    pub fn window_start(&self) -> i64 {
        self.window_start
    }

    /// End of the closed window, ns (exclusive).
    pub fn window_end(&self) -> i64 {
        self.window_end
    }

    /// Number of series (`for s in 0..input.series()`).
    pub fn series(&self) -> usize {
        self.series
    }

    pub fn num_tags(&self) -> usize {
        self.tags
    }

    pub fn num_fields(&self) -> usize {
        self.fields
    }

    /// Number of frames: 1 + history length.
    pub fn num_frames(&self) -> usize {
        self.frames
    }

    /// Number of history frames (N).
    pub fn history_len(&self) -> usize {
        self.frames - 1
    }

    pub fn num_strings(&self) -> usize {
        self.nstr
    }

    /// Raw bytes of string-table entry `i` (panics if `i >= num_strings()`).
    pub fn string_bytes(&self, i: usize) -> &'a [u8] {
        assert!(i < self.nstr, "string index {} out of range", i);
        let o = u32_at(self.b, HEADER + 4 * i) as usize;
        let e = u32_at(self.b, HEADER + 4 * (i + 1)) as usize;
        &self.b[self.str_data + o..self.str_data + e]
    }

    /// String-table entry `i`. The host only sends valid UTF-8; bytes that
    /// are not read as "".
    pub fn string(&self, i: usize) -> &'a str {
        std::str::from_utf8(self.string_bytes(i)).unwrap_or("")
    }

    /// The analyzer instance's name.
    pub fn instance(&self) -> &'a str {
        self.string(0)
    }

    /// The pipeline (InfluxDB measurement) the window belongs to.
    pub fn pipeline(&self) -> &'a str {
        self.string(1)
    }

    pub fn tag_name(&self, t: usize) -> &'a str {
        assert!(t < self.tags);
        self.string(2 + t)
    }

    pub fn field_name(&self, f: usize) -> &'a str {
        assert!(f < self.fields);
        self.string(2 + self.tags + f)
    }

    /// Index of the named field, if the pipeline has it.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        (0..self.fields).find(|&f| self.string_bytes(2 + self.tags + f) == name.as_bytes())
    }

    /// Index of the named tag.
    pub fn tag_index(&self, name: &str) -> Option<usize> {
        (0..self.tags).find(|&t| self.string_bytes(2 + t) == name.as_bytes())
    }

    /// String-table index of tag `t` of series `s`: equal indices are equal
    /// values, so series can be compared or hashed without the strings.
    pub fn tag_value_index(&self, s: usize, t: usize) -> usize {
        assert!(s < self.series && t < self.tags);
        u32_at(self.b, self.series_off + 4 * (s * self.tags + t)) as usize
    }

    /// Value of tag `t` for series `s`.
    pub fn tag_value(&self, s: usize, t: usize) -> &'a str {
        self.string(self.tag_value_index(s, t))
    }

    /// Value of the named tag for series `s` (`None` if there is no such tag).
    pub fn tag(&self, s: usize, name: &str) -> Option<&'a str> {
        self.tag_index(name).map(|t| self.tag_value(s, t))
    }

    /// `tag=value,tag=value` for series `s`: stable across windows, usable
    /// as a state key.
    pub fn series_key(&self, s: usize) -> String {
        let mut k = String::new();
        for t in 0..self.tags {
            if t > 0 {
                k.push(',');
            }
            k.push_str(self.tag_name(t));
            k.push('=');
            k.push_str(self.tag_value(s, t));
        }
        k
    }

    /// Frame `k`: 0 is the closed window, 1.. history, newest first.
    pub fn frame(&self, k: usize) -> Option<Frame<'a>> {
        if k >= self.frames {
            return None;
        }
        let start = self.frames_off + k * self.stride;
        let len = self.fields * self.series;
        let data = &self.b[start + FRAME_HEADER..start + FRAME_HEADER + 8 * len];
        // Safety: the buffer start is 8-aligned (checked in parse), and
        // frames_off, stride and the 24-byte header are multiples of 8, so
        // data is 8-aligned; every bit pattern is a valid f64; the layout is
        // little-endian and so is the target (compile_error above).
        let values = unsafe { std::slice::from_raw_parts(data.as_ptr() as *const f64, len) };
        Some(Frame {
            start: i64_at(self.b, start),
            end: i64_at(self.b, start + 8),
            flags: u32_at(self.b, start + 16),
            series: self.series,
            values,
        })
    }

    /// The closed window.
    pub fn current(&self) -> Frame<'a> {
        self.frame(0).expect("frame 0 is checked in parse")
    }

    /// History frame `i` (1 = newest); `None` past the end.
    pub fn history(&self, i: usize) -> Option<Frame<'a>> {
        if i == 0 {
            return None;
        }
        self.frame(i)
    }

    /// The history frames, newest first.
    pub fn history_frames(&self) -> impl Iterator<Item = Frame<'a>> + 'a {
        let me = *self;
        (1..self.frames).map(move |k| me.frame(k).unwrap())
    }

    /// Column `f` of the closed window.
    pub fn column(&self, f: usize) -> &'a [f64] {
        self.current().column(f)
    }

    /// The closed window's column of the named field.
    pub fn field(&self, name: &str) -> Option<&'a [f64]> {
        self.field_index(name).map(|f| self.column(f))
    }
}

/// One window's values, in frame 0's series order. NaN means missing.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    start: i64,
    end: i64,
    flags: u32,
    series: usize,
    values: &'a [f64],
}

impl<'a> Frame<'a> {
    /// Start of the frame's window, ns (inclusive).
    pub fn start(&self) -> i64 {
        self.start
    }

    /// End of the frame's window, ns (exclusive).
    pub fn end(&self) -> i64 {
        self.end
    }

    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// No data was stored for this window: every value is NaN.
    pub fn missing(&self) -> bool {
        self.flags & FRAME_MISSING != 0
    }

    /// Field `f`, one value per series (panics if `f` is out of range).
    pub fn column(&self, f: usize) -> &'a [f64] {
        &self.values[f * self.series..(f + 1) * self.series]
    }
}
