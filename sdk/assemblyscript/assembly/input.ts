// The analyze input ("TMK1", abi/ABI.md §3), read in place: f64 columns are
// Float64Array views over the buffer the input was copied into.
import { equalsUTF8 } from "./utf8";

/** Header flag: the declared history could not be fetched in full. */
export const HISTORY_INCOMPLETE: u32 = 1;
/** Header flag: history frames are "the same window at an offset". */
export const HISTORY_OFFSET: u32 = 2;
/** Frame flag: no data was stored for this window (all values NaN). */
export const FRAME_MISSING: u32 = 1;

const HEADER_SIZE: u32 = 64;
const FRAME_HEADER_SIZE: u32 = 24;

/** One window's columns, in the current window's series order. */
export class Frame {
  constructor(private input: Input, readonly index: i32) {}

  /** Whether the frame is in the input (history past the end is not). */
  get present(): bool { return this.index >= 0 && this.index < this.input.frameCount; }

  private get ptr(): usize {
    return this.input.ptr + this.input.framesOff + <usize>this.index * this.input.frameStride;
  }

  /** Window start, ns since the epoch, inclusive (0 for an absent frame). */
  get start(): i64 { return this.present ? load<i64>(this.ptr) : 0; }
  /** Window end, ns since the epoch, exclusive (0 for an absent frame). */
  get end(): i64 { return this.present ? load<i64>(this.ptr, 8) : 0; }
  /** Frame flags (FRAME_MISSING). */
  get flags(): u32 { return this.present ? load<u32>(this.ptr, 16) : FRAME_MISSING; }
  /** No data was stored for this window, or the frame is not in the input: every value is NaN. */
  get missing(): bool { return (this.flags & FRAME_MISSING) != 0; }

  /** Column f: one value per series, NaN where a series has no value. A view into the input, no copy. */
  column(f: i32): Float64Array { return this.input.columnView(this.index, f); }

  /** The column of the named field, or null if the pipeline has no such field. */
  field(name: string): Float64Array | null {
    const f = this.input.fieldIndex(name);
    return f < 0 ? null : this.column(f);
  }

  /** Field f of series s, read straight from memory (no view object). */
  @inline value(f: i32, s: i32): f64 {
    if (!this.present) return NaN;
    return load<f64>(this.ptr + FRAME_HEADER_SIZE + ((<usize>f * this.input.seriesCount + s) << 3));
  }
}

/** One analyze call's data: the window that closed (frame 0) and its history. Valid until analyze returns. */
export class Input {
  ptr: usize = 0;
  len: u32 = 0;
  major: u16 = 0;
  minor: u16 = 0;
  flags: u32 = 0;
  windowStart: i64 = 0;
  windowEnd: i64 = 0;
  stringCount: i32 = 0;
  tagCount: i32 = 0;
  fieldCount: i32 = 0;
  seriesCount: i32 = 0;
  frameCount: i32 = 0;
  seriesOff: u32 = 0;
  framesOff: u32 = 0;
  frameStride: u32 = 0;
  private strData: u32 = 0;
  private buffer: ArrayBuffer = new ArrayBuffer(0);
  private views: Array<Float64Array | null> = [];
  private frames: Frame[] = [];
  private absent: Frame = new Frame(this, i32.MAX_VALUE); // any frame not in the input: missing, all NaN
  private nan: Float64Array = new Float64Array(0);
  private key0: u64 = 0;
  private key1: u64 = 0;
  private key2: u64 = 0;

  /**
   * Points the input at len bytes at ptr (8-byte aligned, inside buffer) and
   * checks them as abi/ABI.md §3.5 requires. Returns null, or why the bytes
   * are not a valid input (then nothing may be read).
   */
  reset(buffer: ArrayBuffer, ptr: usize, len: u32): string | null {
    this.buffer = buffer;
    this.ptr = ptr;
    this.len = len;
    this.frameCount = 0;
    this.seriesCount = 0;
    if (len < HEADER_SIZE) return "input of " + len.toString() + " bytes is shorter than the 64 byte header";
    if ((ptr & 7) != 0) return "input is not 8-byte aligned";
    if (load<u32>(ptr) != 0x314b4d54) return "bad magic (want TMK1)";
    this.major = load<u16>(ptr, 4);
    this.minor = load<u16>(ptr, 6);
    if (this.major != 1) return "ABI version " + this.major.toString() + "." + this.minor.toString() + ", this SDK reads 1.x";
    this.flags = load<u32>(ptr, 8);
    const total = <u64>load<u32>(ptr, 12);
    if (total > <u64>len || total < <u64>HEADER_SIZE) return "total length " + total.toString() + ", have " + len.toString() + " bytes";
    this.len = <u32>total;
    this.windowStart = load<i64>(ptr, 16);
    this.windowEnd = load<i64>(ptr, 24);
    const nstr = <u64>load<u32>(ptr, 32);
    const tags = <u64>load<u32>(ptr, 36);
    const fields = <u64>load<u32>(ptr, 40);
    const series = <u64>load<u32>(ptr, 44);
    const frames = <u64>load<u32>(ptr, 48);
    const seriesOff = <u64>load<u32>(ptr, 52);
    const framesOff = <u64>load<u32>(ptr, 56);
    const stride = <u64>load<u32>(ptr, 60);
    if (nstr < 2 + tags + fields) return "string count too small for the tag and field names";
    const strData = <u64>HEADER_SIZE + 4 * (nstr + 1);
    if (strData > total) return "string offsets run past the end";
    if (load<u32>(ptr + HEADER_SIZE) != 0) return "string offset 0 is not 0";
    let prev: u32 = 0;
    for (let i: u64 = 1; i <= nstr; i++) {
      const o = load<u32>(ptr + HEADER_SIZE + <usize>(4 * i));
      if (o < prev) return "string offsets decrease";
      prev = o;
    }
    const strEnd = strData + <u64>prev;
    if (strEnd > total) return "string bytes run past the end";
    if (seriesOff % 8 != 0 || seriesOff < strEnd) return "series table offset not 8-aligned or overlapping the string table";
    const seriesEnd = seriesOff + 4 * series * tags;
    if (seriesEnd > total) return "series table runs past the end";
    for (let p = seriesOff; p < seriesEnd; p += 4) {
      if (<u64>load<u32>(ptr + <usize>p) >= nstr) return "series table entry is not a string index";
    }
    if (frames < 1) return "no frame 0";
    if (framesOff % 8 != 0 || framesOff < seriesEnd || framesOff > total) return "frames offset not 8-aligned, overlapping the series table or past the end";
    if (fields != 0 && series > (<u64>0xffffffff / 8) / fields) return "fields × series overflow";
    if (stride % 8 != 0 || stride < <u64>FRAME_HEADER_SIZE + 8 * fields * series) return "frame stride too small";
    if (frames > (total - framesOff) / stride) return "frames run past the end";
    this.stringCount = <i32>nstr;
    this.tagCount = <i32>tags;
    this.fieldCount = <i32>fields;
    this.seriesCount = <i32>series;
    this.frameCount = <i32>frames;
    this.seriesOff = <u32>seriesOff;
    this.framesOff = <u32>framesOff;
    this.frameStride = <u32>stride;
    this.strData = <u32>strData;
    // Column views are reused while the geometry is the same (the usual case
    // window after window), so steady-state calls allocate nothing.
    const n = <i32>(frames * fields);
    const key0 = <u64>ptr ^ (<u64>changetype<usize>(buffer) << 32);
    const key1 = (<u64>this.framesOff << 32) | <u64>this.frameStride;
    const key2 = (<u64>this.fieldCount << 32) | <u64>this.seriesCount;
    if (this.views.length != n || this.key0 != key0 || this.key1 != key1 || this.key2 != key2) {
      this.views = new Array<Float64Array | null>(n);
      this.key0 = key0;
      this.key1 = key1;
      this.key2 = key2;
    }
    return null;
  }

  /** Number of series; series s means the same series in every frame and in alerts. */
  get series(): i32 { return this.seriesCount; }
  /** Number of history frames (N). */
  get historyLen(): i32 { return this.frameCount - 1; }
  /** The declared history could not be fetched in full: do not alert on a baseline you do not have. */
  get historyIncomplete(): bool { return (this.flags & HISTORY_INCOMPLETE) != 0; }
  /** History is "the same window at an offset" rather than the last N windows. */
  get historyOffset(): bool { return (this.flags & HISTORY_OFFSET) != 0; }

  /** Byte length of string i of the string table. */
  stringLength(i: i32): i32 {
    return <i32>(load<u32>(this.ptr + HEADER_SIZE + 4 * (<usize>i + 1)) - load<u32>(this.ptr + HEADER_SIZE + 4 * <usize>i));
  }
  /** Address of the UTF-8 bytes of string i. */
  stringPtr(i: i32): usize {
    return this.ptr + this.strData + load<u32>(this.ptr + HEADER_SIZE + 4 * <usize>i);
  }
  /** String i of the string table, decoded (allocates). */
  string(i: i32): string {
    return String.UTF8.decodeUnsafe(this.stringPtr(i), this.stringLength(i), false);
  }
  /** Whether string i equals s (compares bytes, no allocation). */
  stringEquals(i: i32, s: string): bool {
    return equalsUTF8(this.stringPtr(i), this.stringLength(i), s);
  }

  /** The analyzer instance's name. */
  get instance(): string { return this.string(0); }
  /** The pipeline (InfluxDB measurement) the window belongs to. */
  get pipeline(): string { return this.string(1); }

  tagName(t: i32): string { return this.string(2 + t); }
  fieldName(f: i32): string { return this.string(2 + this.tagCount + f); }

  /** Field names, in column order. */
  fields(): string[] {
    const out = new Array<string>(this.fieldCount);
    for (let f = 0; f < this.fieldCount; f++) out[f] = this.fieldName(f);
    return out;
  }
  /** Tag names, in group-by order. */
  tags(): string[] {
    const out = new Array<string>(this.tagCount);
    for (let t = 0; t < this.tagCount; t++) out[t] = this.tagName(t);
    return out;
  }

  /** Index of a field, -1 if absent. */
  fieldIndex(name: string): i32 {
    for (let f = 0; f < this.fieldCount; f++) if (this.stringEquals(2 + this.tagCount + f, name)) return f;
    return -1;
  }
  /** Index of a tag, -1 if absent. */
  tagIndex(name: string): i32 {
    for (let t = 0; t < this.tagCount; t++) if (this.stringEquals(2 + t, name)) return t;
    return -1;
  }

  /** String index of tag t's value for series s: equal indices mean equal strings. */
  tagValueIndex(s: i32, t: i32): u32 {
    return load<u32>(this.ptr + this.seriesOff + 4 * (<usize>s * this.tagCount + t));
  }
  /** Tag t's value for series s. */
  tagValue(s: i32, t: i32): string { return this.string(this.tagValueIndex(s, t)); }
  /** The value of the named tag for series s ("" if no such tag). */
  tag(s: i32, name: string): string {
    const t = this.tagIndex(name);
    return t < 0 ? "" : this.tagValue(s, t);
  }
  /** "tag=value,tag=value" for series s: stable across windows, usable as a state key. */
  seriesKey(s: i32): string {
    let out = "";
    for (let t = 0; t < this.tagCount; t++) {
      if (t > 0) out += ",";
      out += this.tagName(t) + "=" + this.tagValue(s, t);
    }
    return out;
  }

  /** Frame k: 0 is the current window, k ≥ 1 history (newest first). Past the end: a missing, all-NaN frame. */
  frame(k: i32): Frame {
    if (k < 0 || k >= this.frameCount) return this.absent;
    while (this.frames.length <= k) this.frames.push(new Frame(this, this.frames.length));
    return unchecked(this.frames[k]);
  }
  /** History frame i (1 = newest). */
  history(i: i32): Frame { return this.frame(i); }
  /** The current window's column f. */
  column(f: i32): Float64Array { return this.columnView(0, f); }
  /** The current window's column of the named field, or null. */
  field(name: string): Float64Array | null { return this.frame(0).field(name); }

  /** @internal */
  columnView(k: i32, f: i32): Float64Array {
    if (k < 0 || k >= this.frameCount || f < 0 || f >= this.fieldCount) return this.nanColumn();
    const i = k * this.fieldCount + f;
    let v = unchecked(this.views[i]);
    if (v === null) {
      const off = <i32>(this.ptr - changetype<usize>(this.buffer)) + <i32>this.framesOff + k * <i32>this.frameStride +
        <i32>FRAME_HEADER_SIZE + 8 * f * this.seriesCount;
      v = Float64Array.wrap(this.buffer, off, this.seriesCount);
      unchecked(this.views[i] = v);
    }
    return v;
  }

  private nanColumn(): Float64Array {
    if (this.nan.length != this.seriesCount) {
      this.nan = new Float64Array(this.seriesCount);
      this.nan.fill(NaN);
    }
    return this.nan;
  }
}
