// UTF-8 helpers that work on guest memory without allocating.

/** A scratch buffer reused by log, state keys and alerts; grows, never shrinks. */
let scratch = new ArrayBuffer(256);

/** Returns a pointer to at least n bytes of scratch memory (valid until the next call). */
export function scratchPtr(n: i32): usize {
  if (scratch.byteLength < n) scratch = new ArrayBuffer(max(n, scratch.byteLength << 1));
  return changetype<usize>(scratch);
}

/** Writes s as UTF-8 at dst (which must hold String.UTF8.byteLength(s) bytes); returns the byte count. */
export function writeUTF8(s: string, dst: usize): i32 {
  return <i32>String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, dst, false);
}

/** Reports whether the n UTF-8 bytes at p spell s, without decoding or allocating. */
export function equalsUTF8(p: usize, n: i32, s: string): bool {
  let j = 0; // byte position
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = <u32>s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < len) {
      const d = <u32>s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) {
      if (j + 1 > n || load<u8>(p + j) != c) return false;
      j += 1;
    } else if (c < 0x800) {
      if (j + 2 > n) return false;
      if (load<u8>(p + j) != (0xc0 | (c >> 6)) || load<u8>(p + j + 1) != (0x80 | (c & 63))) return false;
      j += 2;
    } else if (c < 0x10000) {
      if (j + 3 > n) return false;
      if (load<u8>(p + j) != (0xe0 | (c >> 12)) || load<u8>(p + j + 1) != (0x80 | ((c >> 6) & 63)) ||
        load<u8>(p + j + 2) != (0x80 | (c & 63))) return false;
      j += 3;
    } else {
      if (j + 4 > n) return false;
      if (load<u8>(p + j) != (0xf0 | (c >> 18)) || load<u8>(p + j + 1) != (0x80 | ((c >> 12) & 63)) ||
        load<u8>(p + j + 2) != (0x80 | ((c >> 6) & 63)) || load<u8>(p + j + 3) != (0x80 | (c & 63))) return false;
      j += 4;
    }
  }
  return j == n;
}
