// Test harness for AssemblyScript analyzers under node (`node --test`):
// encode an analyze input (abi/ABI.md §3) from plain objects, run a built
// module with a JS stand-in for the tidemark_v1 host functions, and decode
// the alerts it emits (§4). For the real host (wazero, limits, deadlines)
// use `tidemark plugin test` or the Go test harness.
//
//   import { start, encodeInput } from "tidemark-sdk/testing.js";
//   const inst = await start(readFileSync("spike.wasm"), { factor: 3 });
//   const { status, alerts, logs } = inst.analyze(encodeInput({ ... }));

const utf8 = new TextEncoder();
const utf8d = new TextDecoder("utf-8", { fatal: false });

const align8 = (n) => (n + 7) & ~7;

/**
 * Encodes an analyze input. `input` is
 *   { flags?, windowStart: bigint|number (ns), windowEnd, instance?, pipeline?,
 *     tagNames: string[], fieldNames: string[], series: string[][] (tag values per series),
 *     frames: [{ start, end, flags?, columns: number[][] (columns[f][s]) }] }   frame 0 first
 * Tag values are dictionary-coded in the order of `dict` (optional), then in order of first use.
 */
export function encodeInput(input) {
  const T = input.tagNames.length, F = input.fieldNames.length, S = input.series.length;
  const strings = [input.instance ?? "instance", input.pipeline ?? "pipeline", ...input.tagNames, ...input.fieldNames];
  const dict = new Map();
  for (const v of input.dict ?? []) if (!dict.has(v)) { dict.set(v, strings.length); strings.push(v); }
  const tagIdx = [];
  for (const row of input.series) {
    if (row.length !== T) throw new Error(`series has ${row.length} tag values, want ${T}`);
    for (const v of row) {
      if (!dict.has(v)) { dict.set(v, strings.length); strings.push(v); }
      tagIdx.push(dict.get(v));
    }
  }
  const bytes = strings.map((s) => utf8.encode(s));
  const strLen = bytes.reduce((n, b) => n + b.length, 0);
  const seriesOff = align8(64 + 4 * (strings.length + 1) + strLen);
  const framesOff = align8(seriesOff + 4 * S * T);
  const stride = 24 + 8 * F * S;
  const frames = input.frames;
  if (!frames || frames.length === 0) throw new Error("frame 0 is required");
  const total = framesOff + frames.length * stride;
  const buf = new ArrayBuffer(total);
  const dv = new DataView(buf), u8 = new Uint8Array(buf);
  u8.set(utf8.encode("TMK1"), 0);
  dv.setUint16(4, 1, true);
  dv.setUint16(6, 0, true);
  dv.setUint32(8, input.flags ?? 0, true);
  dv.setUint32(12, total, true);
  dv.setBigInt64(16, BigInt(input.windowStart ?? frames[0].start), true);
  dv.setBigInt64(24, BigInt(input.windowEnd ?? frames[0].end), true);
  [strings.length, T, F, S, frames.length, seriesOff, framesOff, stride].forEach((v, i) => dv.setUint32(32 + 4 * i, v, true));
  let off = 0, p = 64 + 4 * (strings.length + 1);
  bytes.forEach((b, i) => {
    dv.setUint32(64 + 4 * i, off, true);
    u8.set(b, p + off);
    off += b.length;
  });
  dv.setUint32(64 + 4 * strings.length, off, true);
  tagIdx.forEach((v, i) => dv.setUint32(seriesOff + 4 * i, v, true));
  frames.forEach((fr, k) => {
    const base = framesOff + k * stride;
    dv.setBigInt64(base, BigInt(fr.start), true);
    dv.setBigInt64(base + 8, BigInt(fr.end), true);
    dv.setUint32(base + 16, fr.flags ?? 0, true);
    for (let f = 0; f < F; f++) {
      const col = fr.columns?.[f];
      for (let s = 0; s < S; s++) dv.setFloat64(base + 24 + 8 * (f * S + s), col ? col[s] : NaN, true);
    }
  });
  return u8;
}

/** Decodes one alert (§4): { severity, kind, series, field, observed, expected, lower, upper, horizon (bigint), message }. */
export function decodeAlert(b) {
  if (b.length < 56) throw new Error(`alert of ${b.length} bytes is shorter than its 56 byte header`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const mlen = dv.getUint32(12, true);
  if (56 + mlen !== b.length) throw new Error(`alert message length ${mlen}, ${b.length - 56} bytes follow`);
  if (b[0] > 3 || b[1] > 1 || b[2] !== 0 || b[3] !== 0) throw new Error("malformed alert header");
  return {
    severity: b[0], kind: b[1],
    series: dv.getUint32(4, true), field: dv.getUint32(8, true),
    observed: dv.getFloat64(16, true), expected: dv.getFloat64(24, true),
    lower: dv.getFloat64(32, true), upper: dv.getFloat64(40, true),
    horizon: dv.getBigInt64(48, true),
    message: utf8d.decode(b.subarray(56)),
  };
}

/** Series/field index of an alert not about one series or field. */
export const NO_INDEX = 0xffffffff;

/** JS stand-in for the tidemark_v1 host functions (no query, no clock). */
export class Host {
  constructor() {
    this.input = new Uint8Array(0);
    this.alerts = [];
    this.logs = [];
    this.state = new Map();
    this.memory = null;
    this.analyzing = false;
    this.saving = false;
    this.saved = null;
  }

  imports() {
    const mem = () => new Uint8Array(this.memory.buffer);
    const str = (p, n) => utf8d.decode(mem().subarray(p >>> 0, (p >>> 0) + n));
    return {
      tidemark_v1: {
        input_read: (ptr, len) => {
          const n = Math.min(len, this.input.length);
          mem().set(this.input.subarray(0, n), ptr >>> 0);
          return n;
        },
        emit_alert: (ptr, len) => {
          if (!this.analyzing) return -6;
          if (this.alerts.length >= 10000) return -5;
          const b = mem().slice(ptr >>> 0, (ptr >>> 0) + len);
          try { decodeAlert(b); } catch { return -1; }
          this.alerts.push(b);
          return 0;
        },
        log: (level, ptr, len) => { this.logs.push({ level, message: str(ptr, len) }); return 0; },
        state_get: (kp, kl, bp, bl) => {
          const v = this.state.get(str(kp, kl));
          if (!v) return -3;
          mem().set(v.subarray(0, Math.min(bl, v.length)), bp >>> 0);
          return v.length;
        },
        state_set: (kp, kl, vp, vl) => {
          const key = str(kp, kl);
          const val = mem().slice(vp >>> 0, (vp >>> 0) + vl);
          if (key === "") {
            if (!this.saving) return -1;
            this.saved = val;
          } else if (vl === 0) this.state.delete(key);
          else this.state.set(key, val);
          return 0;
        },
        query: () => -4,
        query_read: () => -4,
        clock_now: () => -4n,
      },
    };
  }
}

/** A module instance driven like the host drives it. */
export class Instance {
  constructor(exports, host) {
    this.exports = exports;
    this.host = host;
  }

  call(name, input, analyzing = false) {
    const fn = this.exports[name];
    if (typeof fn !== "function") throw new Error(`module does not export ${name}`);
    this.host.input = input;
    this.host.analyzing = analyzing;
    this.host.alerts = [];
    try {
      return fn(input.length);
    } finally {
      this.host.input = new Uint8Array(0);
      this.host.analyzing = false;
    }
  }

  /** Runs one window: { status, alerts (decoded), raw (bytes), logs }. A negative status discards the alerts, as the host does. */
  analyze(input) {
    const logsBefore = this.host.logs.length;
    const status = this.call("tidemark_analyze", input, true);
    const raw = status < 0 ? [] : this.host.alerts;
    return { status, raw, alerts: raw.map(decodeAlert), logs: this.host.logs.slice(logsBefore) };
  }
}

/**
 * Instantiates wasm (bytes) with a fresh Host, runs _initialize and
 * tidemark_init(options). Throws if init fails (with the module's log).
 */
export async function start(wasm, options = {}) {
  const host = new Host();
  const { instance } = await WebAssembly.instantiate(wasm, host.imports());
  host.memory = instance.exports.memory;
  if (typeof instance.exports._initialize === "function") instance.exports._initialize();
  const inst = new Instance(instance.exports, host);
  const st = inst.call("tidemark_init", utf8.encode(JSON.stringify(options)));
  if (st < 0) throw new Error(`tidemark_init returned ${st}: ${JSON.stringify(host.logs)}`);
  return inst;
}
