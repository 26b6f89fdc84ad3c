// The analyzer a module registers, and the SDK's host-function wrappers.
import * as host from "./host";
import { Input } from "./input";
import { Emitter } from "./alert";
import { Options } from "./options";
import { INVALID_ARGUMENT, OK } from "./status";
import { scratchPtr, writeUTF8 } from "./utf8";

/**
 * What a module implements. Override init (optional) and analyze; return OK
 * or a negative status (see fail). Report conditions, not events: emit for
 * every series that is not ok in this window; the host fires and resolves.
 */
export abstract class Analyzer {
  /** Called once per instance with its options (defaults already filled in by the host). */
  init(opts: Options): i32 { return OK; }
  /** Called once per closed window. Alerts emitted before a negative return are discarded by the host. */
  abstract analyze(input: Input, out: Emitter): i32;
  /** Hot reload, old module: the in-memory state to carry over, or null for none. */
  saveState(): ArrayBuffer | null { return null; }
  /** Hot reload, new module: the blob the old module saved. */
  loadState(blob: ArrayBuffer): i32 { return OK; }
}

let registered: Analyzer | null = null;

/** Sets the module's analyzer; call it once, at the top level of the entry file. */
export function register(a: Analyzer): void {
  if (registered !== null) abort("tidemark: register called twice");
  registered = a;
}

/** The analyzer passed to register, or null. */
export function registeredAnalyzer(): Analyzer | null { return registered; }

export const LOG_DEBUG: i32 = 0;
export const LOG_INFO: i32 = 1;
export const LOG_WARN: i32 = 2;
export const LOG_ERROR: i32 = 3;

/** Writes a line to the instance log (at most 100 lines per call are kept). */
export function log(level: i32, msg: string): i32 {
  const p = scratchPtr(msg.length * 3);
  return host.log(level, p, writeUTF8(msg, p));
}

/** Logs msg at error level and returns INVALID_ARGUMENT: `return fail("no field x")` from init or analyze. */
export function fail(msg: string, status: i32 = INVALID_ARGUMENT): i32 {
  log(LOG_ERROR, msg);
  return status;
}

/** Status of the last stateGet/query that returned null. */
export let lastStatus: i32 = OK;

function keyBytes(key: string): ArrayBuffer { return String.UTF8.encode(key, false); }

/** Host-held state for this instance (survives reload, trap recovery, restart); null if absent (lastStatus = NOT_FOUND). */
export function stateGet(key: string): ArrayBuffer | null {
  const k = keyBytes(key);
  let buf = new ArrayBuffer(256);
  let n = host.state_get(changetype<usize>(k), k.byteLength, changetype<usize>(buf), buf.byteLength);
  if (n > buf.byteLength) {
    buf = new ArrayBuffer(n);
    n = host.state_get(changetype<usize>(k), k.byteLength, changetype<usize>(buf), buf.byteLength);
  }
  if (n < 0) {
    lastStatus = n;
    return null;
  }
  return buf.slice(0, n);
}

/** Stores a copy of val under key (an empty val deletes the key); returns a status. */
export function stateSet(key: string, val: ArrayBuffer): i32 {
  if (key.length == 0) return INVALID_ARGUMENT; // "" is the hot-reload blob, owned by the SDK
  const k = keyBytes(key);
  return host.state_set(changetype<usize>(k), k.byteLength, changetype<usize>(val), val.byteLength);
}

/** Capability "query": runs a Flux query, returns the annotated CSV, or null (lastStatus says why, e.g. PERMISSION_DENIED). */
export function query(flux: string): string | null {
  const req = String.UTF8.encode(flux, false);
  const n = host.query(changetype<usize>(req), req.byteLength);
  if (n < 0) {
    lastStatus = n;
    return null;
  }
  const buf = new ArrayBuffer(n);
  host.query_read(changetype<usize>(buf), n);
  return String.UTF8.decode(buf, false);
}

/** Capability "clock": wall clock in ns since the epoch; negative (PERMISSION_DENIED) if not granted. */
export function clockNow(): i64 { return host.clock_now(); }

/** The abort handler (asc --use abort=...): logs the message and traps, so the host recreates the instance. */
export function tidemarkAbort(message: string | null = null, fileName: string | null = null, line: u32 = 0, column: u32 = 0): void {
  let msg = "abort: " + (message !== null ? message : "(no message)");
  if (fileName !== null) msg += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  // Not log(): that uses a global buffer whose initializer may itself abort.
  const b = String.UTF8.encode(msg, false);
  host.log(LOG_ERROR, changetype<usize>(b), b.byteLength);
  unreachable();
}

