// The module's exports (abi/ABI.md §2). An entry file re-exports them after
// registering its analyzer:
//
//   register(new MyAnalyzer());
//   export { tidemark_init, tidemark_analyze } from "tidemark-sdk/assembly/exports";
import * as host from "./host";
import { registeredAnalyzer, fail, LOG_ERROR, log } from "./analyzer";
import { Input } from "./input";
import { Emitter } from "./alert";
import { Options, optionsError } from "./options";
import { INTERNAL, OK } from "./status";

// The input buffer is reused call after call (grows, never shrinks): an
// ArrayBuffer's data is 16-byte aligned, so the f64 columns can be viewed in place.
let buffer = new ArrayBuffer(0);
const input = new Input();
const emitter = new Emitter();

function readInput(len: i32): usize {
  if (buffer.byteLength < len) buffer = new ArrayBuffer(max(len, buffer.byteLength + (buffer.byteLength >> 1)));
  const p = changetype<usize>(buffer);
  if (len > 0) {
    const n = host.input_read(p, len);
    if (n != len) return 0;
  }
  return p;
}

/** Reclaims what the call allocated (runtime minimal; a no-op under stub). Only globals are live here. */
// @ts-ignore: decorator
@inline function collect(): void { __collect(); }

export function tidemark_init(optionsLen: i32): i32 {
  const a = registeredAnalyzer();
  if (a === null) return fail("tidemark: no analyzer registered (call register(new MyAnalyzer()) in the entry file)", INTERNAL);
  const p = readInput(optionsLen);
  if (p == 0) return fail("tidemark: input_read of the options failed", INTERNAL);
  const opts = Options.parse(String.UTF8.decodeUnsafe(p, optionsLen, false));
  if (opts === null) return fail("tidemark: " + optionsError);
  const st = a.init(opts);
  collect();
  return st;
}

export function tidemark_analyze(inputLen: i32): i32 {
  const a = registeredAnalyzer();
  if (a === null) return fail("tidemark: no analyzer registered", INTERNAL);
  const p = readInput(inputLen);
  if (p == 0) return fail("tidemark: input_read of the batch failed", INTERNAL);
  const err = input.reset(buffer, p, <u32>inputLen);
  if (err !== null) return fail("tidemark: bad input: " + err);
  emitter.reset(input.seriesCount, input.fieldCount);
  const st = a.analyze(input, emitter);
  collect();
  return st;
}

export function tidemark_state_save(): i32 {
  const a = registeredAnalyzer();
  if (a === null) return OK;
  const blob = a.saveState();
  let st = OK;
  if (blob !== null && blob.byteLength > 0) {
    const empty: usize = 0;
    st = host.state_set(empty, 0, changetype<usize>(blob), blob.byteLength);
    if (st < 0) log(LOG_ERROR, "tidemark: state_save: state_set failed with status " + st.toString());
  }
  collect();
  return st < 0 ? st : OK;
}

export function tidemark_state_load(len: i32): i32 {
  const a = registeredAnalyzer();
  if (a === null) return OK;
  const blob = new ArrayBuffer(len);
  if (len > 0 && host.input_read(changetype<usize>(blob), len) != len) return fail("tidemark: input_read of the state blob failed", INTERNAL);
  const st = a.loadState(blob);
  collect();
  return st;
}

