// Host functions of the tidemark_v1 ABI (abi/ABI.md §6). Pointers are guest
// linear-memory offsets; every function returns a status (negative = error).

// @ts-ignore: decorator
@external("tidemark_v1", "input_read")
export declare function input_read(ptr: usize, len: i32): i32;

// @ts-ignore: decorator
@external("tidemark_v1", "emit_alert")
export declare function emit_alert(ptr: usize, len: i32): i32;

// @ts-ignore: decorator
@external("tidemark_v1", "log")
export declare function log(level: i32, ptr: usize, len: i32): i32;

// @ts-ignore: decorator
@external("tidemark_v1", "state_get")
export declare function state_get(keyPtr: usize, keyLen: i32, bufPtr: usize, bufLen: i32): i32;

// @ts-ignore: decorator
@external("tidemark_v1", "state_set")
export declare function state_set(keyPtr: usize, keyLen: i32, valPtr: usize, valLen: i32): i32;

// @ts-ignore: decorator
@external("tidemark_v1", "query")
export declare function query(reqPtr: usize, reqLen: i32): i32;

// @ts-ignore: decorator
@external("tidemark_v1", "query_read")
export declare function query_read(ptr: usize, len: i32): i32;

// @ts-ignore: decorator
@external("tidemark_v1", "clock_now")
export declare function clock_now(): i64;
