//! Host functions (ABI.md §6). On wasm32 they are the `tidemark_v1`
//! imports; elsewhere an in-process stand-in (see [`crate::testing`]) so
//! analyzer logic runs under a plain `cargo test`.

use crate::{Error, Status};

/// Log level of a line in the instance log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

#[cfg(target_arch = "wasm32")]
mod imp {
    // Rust names are prefixed so they cannot collide with libm symbols such
    // as `log`: the import name comes from link_name.
    #[link(wasm_import_module = "tidemark_v1")]
    extern "C" {
        #[link_name = "input_read"]
        fn tm_input_read(ptr: *mut u8, len: i32) -> i32;
        #[link_name = "emit_alert"]
        fn tm_emit_alert(ptr: *const u8, len: i32) -> i32;
        #[link_name = "log"]
        fn tm_log(level: i32, ptr: *const u8, len: i32) -> i32;
        #[link_name = "state_get"]
        fn tm_state_get(kptr: *const u8, klen: i32, bptr: *mut u8, blen: i32) -> i32;
        #[link_name = "state_set"]
        fn tm_state_set(kptr: *const u8, klen: i32, vptr: *const u8, vlen: i32) -> i32;
        #[link_name = "query"]
        fn tm_query(ptr: *const u8, len: i32) -> i32;
        #[link_name = "query_read"]
        fn tm_query_read(ptr: *mut u8, len: i32) -> i32;
        #[link_name = "clock_now"]
        fn tm_clock_now() -> i64;
    }

    // Safety for all: pointers and lengths describe live slices of guest
    // memory; the host only copies within them.
    pub fn input_read(buf: &mut [u8]) -> i32 {
        unsafe { tm_input_read(buf.as_mut_ptr(), buf.len() as i32) }
    }
    pub fn emit_alert(b: &[u8]) -> i32 {
        unsafe { tm_emit_alert(b.as_ptr(), b.len() as i32) }
    }
    pub fn log(level: i32, msg: &[u8]) -> i32 {
        unsafe { tm_log(level, msg.as_ptr(), msg.len() as i32) }
    }
    pub fn state_get(key: &[u8], buf: &mut [u8]) -> i32 {
        unsafe { tm_state_get(key.as_ptr(), key.len() as i32, buf.as_mut_ptr(), buf.len() as i32) }
    }
    pub fn state_set(key: &[u8], val: &[u8]) -> i32 {
        unsafe { tm_state_set(key.as_ptr(), key.len() as i32, val.as_ptr(), val.len() as i32) }
    }
    pub fn query(req: &[u8]) -> i32 {
        unsafe { tm_query(req.as_ptr(), req.len() as i32) }
    }
    pub fn query_read(buf: &mut [u8]) -> i32 {
        unsafe { tm_query_read(buf.as_mut_ptr(), buf.len() as i32) }
    }
    pub fn clock_now() -> i64 {
        unsafe { tm_clock_now() }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use crate::testing::with_native;
    use crate::Status;

    pub fn input_read(buf: &mut [u8]) -> i32 {
        with_native(|h| {
            let n = buf.len().min(h.input.len());
            buf[..n].copy_from_slice(&h.input[..n]);
            n as i32
        })
    }
    pub fn emit_alert(b: &[u8]) -> i32 {
        with_native(|h| {
            if !h.analyzing {
                return Status::Unavailable as i32;
            }
            if let Err(e) = crate::decode_alert(b) {
                return e.status() as i32;
            }
            h.alerts.push(b.to_vec());
            0
        })
    }
    pub fn log(level: i32, msg: &[u8]) -> i32 {
        if !(0..=3).contains(&level) {
            return Status::InvalidArgument as i32;
        }
        with_native(|h| {
            h.logs.push((level, String::from_utf8_lossy(msg).into_owned()));
            0
        })
    }
    pub fn state_get(key: &[u8], buf: &mut [u8]) -> i32 {
        with_native(|h| match h.state.get(key) {
            None => Status::NotFound as i32,
            Some(v) => {
                let n = buf.len().min(v.len());
                buf[..n].copy_from_slice(&v[..n]);
                v.len() as i32
            }
        })
    }
    pub fn state_set(key: &[u8], val: &[u8]) -> i32 {
        with_native(|h| {
            if key.is_empty() {
                if !h.saving {
                    return Status::InvalidArgument as i32;
                }
                h.saved = Some(val.to_vec());
                return 0;
            }
            if key.len() > 256 || val.len() > 1 << 20 {
                return Status::LimitExceeded as i32;
            }
            if val.is_empty() {
                h.state.remove(key);
            } else {
                h.state.insert(key.to_vec(), val.to_vec());
            }
            0
        })
    }
    pub fn query(_req: &[u8]) -> i32 {
        Status::PermissionDenied as i32
    }
    pub fn query_read(_buf: &mut [u8]) -> i32 {
        Status::PermissionDenied as i32
    }
    pub fn clock_now() -> i64 {
        Status::PermissionDenied as i64
    }
}

pub(crate) use imp::{emit_alert as raw_emit_alert, input_read as raw_input_read};

/// Writes a line to the instance log (the host adds instance and module).
/// Lines over 4096 bytes are cut; past 100 lines in one call they are
/// dropped.
pub fn log(level: Level, msg: &str) {
    imp::log(level as i32, msg.as_bytes());
}

/// The value stored under `key` for this instance, `None` if never set.
/// State is kept by the host: it survives hot reloads, recreation after a
/// trap, and restarts.
pub fn state_get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    let mut buf = vec![0u8; 256];
    loop {
        let n = imp::state_get(key.as_bytes(), &mut buf);
        if n == Status::NotFound as i32 {
            return Ok(None);
        }
        if n < 0 {
            return Err(Error::from_status(n, "state_get"));
        }
        let n = n as usize;
        if n <= buf.len() {
            buf.truncate(n);
            return Ok(Some(buf));
        }
        buf.resize(n, 0); // the value is longer: ask again with room for it
    }
}

/// Stores a copy of `val` under `key` (an empty `val` deletes). Limits:
/// key 256 bytes, value 1 MiB, 4 MiB per instance. The empty key is
/// reserved for [`crate::Analyzer::save_state`].
pub fn state_set(key: &str, val: &[u8]) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::with_status(Status::InvalidArgument, "state_set: the empty key is reserved".into()));
    }
    let st = imp::state_set(key.as_bytes(), val);
    if st < 0 {
        return Err(Error::from_status(st, "state_set"));
    }
    Ok(())
}

pub(crate) fn save_blob(blob: &[u8]) -> i32 {
    imp::state_set(b"", blob)
}

/// Runs a Flux query against the instance's bucket (capability `query`)
/// and returns the annotated CSV. PERMISSION_DENIED when not granted.
pub fn query(flux: &str) -> Result<Vec<u8>, Error> {
    let n = imp::query(flux.as_bytes());
    if n < 0 {
        return Err(Error::from_status(n, "query"));
    }
    let mut buf = vec![0u8; n as usize];
    let r = imp::query_read(&mut buf);
    if r < 0 {
        return Err(Error::from_status(r, "query_read"));
    }
    buf.truncate(r as usize);
    Ok(buf)
}

/// The wall clock in ns (capability `clock`). Prefer the window times:
/// they make replays deterministic.
pub fn clock_now() -> Result<i64, Error> {
    let t = imp::clock_now();
    if (Status::Internal as i64..0).contains(&t) {
        return Err(Error::from_status(t as i32, "clock_now"));
    }
    Ok(t)
}
