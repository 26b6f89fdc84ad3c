// Status codes (abi/ABI.md §5): 0 success, negative an error.
export const OK: i32 = 0;
export const INVALID_ARGUMENT: i32 = -1;
export const OUT_OF_BOUNDS: i32 = -2;
export const NOT_FOUND: i32 = -3;
export const PERMISSION_DENIED: i32 = -4;
export const LIMIT_EXCEEDED: i32 = -5;
export const UNAVAILABLE: i32 = -6;
export const INTERNAL: i32 = -7;

/** Name of a status code, e.g. "NOT_FOUND". */
export function statusText(s: i32): string {
  if (s >= 0) return "OK";
  switch (s) {
    case INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case OUT_OF_BOUNDS: return "OUT_OF_BOUNDS";
    case NOT_FOUND: return "NOT_FOUND";
    case PERMISSION_DENIED: return "PERMISSION_DENIED";
    case LIMIT_EXCEEDED: return "LIMIT_EXCEEDED";
    case UNAVAILABLE: return "UNAVAILABLE";
    case INTERNAL: return "INTERNAL";
  }
  return "UNKNOWN";
}
