// A tiny JS stand-in for the tidemark_v1 host functions, enough to drive a
// module's exports from node: input_read serves the current call's input,
// emit_alert and log collect what the guest sends.
import { readFile } from "node:fs/promises";

export class Host {
  constructor() {
    this.input = new Uint8Array(0);
    this.alerts = [];
    this.logs = [];
    this.state = new Map();
    this.memory = null;
  }

  imports() {
    const mem = () => new Uint8Array(this.memory.buffer);
    return {
      tidemark_v1: {
        input_read: (ptr, len) => {
          const n = Math.min(len, this.input.length);
          mem().set(this.input.subarray(0, n), ptr >>> 0);
          return n;
        },
        emit_alert: (ptr, len) => {
          this.alerts.push(mem().slice(ptr >>> 0, (ptr >>> 0) + len));
          return 0;
        },
        log: (level, ptr, len) => {
          this.logs.push([level, new TextDecoder().decode(mem().subarray(ptr >>> 0, (ptr >>> 0) + len))]);
          return 0;
        },
        state_get: (kp, kl, bp, bl) => {
          const key = new TextDecoder().decode(mem().subarray(kp, kp + kl));
          const v = this.state.get(key);
          if (!v) return -3;
          mem().set(v.subarray(0, Math.min(bl, v.length)), bp);
          return v.length;
        },
        state_set: (kp, kl, vp, vl) => {
          const key = new TextDecoder().decode(mem().subarray(kp, kp + kl));
          if (vl === 0) this.state.delete(key);
          else this.state.set(key, mem().slice(vp, vp + vl));
          return 0;
        },
        query: () => -4,
        query_read: () => -4,
        clock_now: () => -4n,
      },
    };
  }

  /** Calls an export with `input` readable through input_read, as the host does. */
  call(fn, input) {
    this.input = input;
    try {
      return fn(input.length);
    } finally {
      this.input = new Uint8Array(0);
    }
  }
}

/** Instantiates build/<name>.wasm through its raw asc bindings (build/<name>.js) with a fresh Host. */
export async function load(name) {
  const dir = new URL("../build/", import.meta.url);
  const { instantiate } = await import(new URL(name + ".js", dir));
  const host = new Host();
  const module = await WebAssembly.compile(await readFile(new URL(name + ".wasm", dir)));
  const exports = await instantiate(module, host.imports());
  host.memory = exports.memory;
  return { host, exports };
}
