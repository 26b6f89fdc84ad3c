//! Tidemark analyzers in Rust: the guest side of `abi/ABI.md` (ABI v1) with
//! no dependencies. An analyzer implements [`Analyzer`] and exports itself:
//!
//! ```no_run
//! use tidemark::{Alert, Analyzer, Emitter, Error, Input, Options, Severity};
//!
//! #[derive(Default)]
//! struct Spike { factor: f64 }
//!
//! impl Analyzer for Spike {
//!     fn init(&mut self, opts: &Options) -> Result<(), Error> {
//!         self.factor = opts.float("factor", 3.0);
//!         Ok(())
//!     }
//!     fn analyze(&mut self, input: &Input, out: &mut Emitter) -> Result<(), Error> {
//!         let f = match input.field_index("sum_bytes") { Some(f) => f, None => return Ok(()) };
//!         let cur = input.column(f);
//!         let prev = match input.history(1) { Some(h) => h.column(f), None => return Ok(()) };
//!         for s in 0..input.series() {
//!             if cur[s] > self.factor * prev[s] {
//!                 out.emit(Alert { severity: Severity::Warn, series: Some(s), field: Some(f),
//!                     observed: cur[s], expected: prev[s], message: "spike", ..Alert::default() })?;
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! tidemark::export_analyzer!(Spike, manifest = br#"{"name":"spike","version":"0.1.0","abi":"1.0"}"#);
//! ```
//!
//! Build with `cargo build --release --target wasm32-unknown-unknown` as a
//! `cdylib`. Outside wasm32 the crate compiles with an in-process host so
//! [`testing::Harness`] can run an analyzer under `cargo test`.

use std::fmt;

mod alert;
mod host;
mod input;
pub mod json;
mod options;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use alert::{
    decode_alert, Alert, DecodedAlert, Emitter, Kind, Severity, ALERT_HEADER_SIZE, MAX_ALERTS_PER_CALL, NO_INDEX,
};
pub use host::{clock_now, log, query, state_get, state_set, Level};
pub use input::{AlignedBuf, Frame, Input, FLAG_HISTORY_INCOMPLETE, FLAG_HISTORY_OFFSET, FRAME_MISSING};
pub use options::Options;

/// What a module implements. One value lives per instance; calls are serial.
pub trait Analyzer {
    /// Called once per instance with its options (checked against the
    /// manifest, defaults filled in). An error fails the instance.
    fn init(&mut self, opts: &Options) -> Result<(), Error>;

    /// Called once per closed window. Emit every series that is not ok in
    /// this window; the host fires on ok→warn/crit and resolves when a
    /// series is no longer reported. If an error is returned, the host
    /// discards the alerts of this call (the instance is kept).
    fn analyze(&mut self, input: &Input, out: &mut Emitter) -> Result<(), Error>;

    /// In-memory state to carry across a hot reload (called on the old
    /// module). Empty means nothing to carry.
    fn save_state(&mut self) -> Result<Vec<u8>, Error> {
        Ok(Vec::new())
    }

    /// Restores what `save_state` of the previous version returned, after
    /// `init` and before the first `analyze`. The blob format is yours:
    /// version it.
    fn load_state(&mut self, _blob: &[u8]) -> Result<(), Error> {
        Ok(())
    }
}

/// ABI status codes (ABI.md §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Status {
    Ok = 0,
    InvalidArgument = -1,
    OutOfBounds = -2,
    NotFound = -3,
    PermissionDenied = -4,
    LimitExceeded = -5,
    Unavailable = -6,
    Internal = -7,
}

impl Status {
    /// The status for a code; unknown negative codes read as `Internal`,
    /// non-negative ones as `Ok`.
    pub fn from_code(code: i32) -> Status {
        match code {
            c if c >= 0 => Status::Ok,
            -1 => Status::InvalidArgument,
            -2 => Status::OutOfBounds,
            -3 => Status::NotFound,
            -4 => Status::PermissionDenied,
            -5 => Status::LimitExceeded,
            -6 => Status::Unavailable,
            _ => Status::Internal,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::InvalidArgument => "INVALID_ARGUMENT",
            Status::OutOfBounds => "OUT_OF_BOUNDS",
            Status::NotFound => "NOT_FOUND",
            Status::PermissionDenied => "PERMISSION_DENIED",
            Status::LimitExceeded => "LIMIT_EXCEEDED",
            Status::Unavailable => "UNAVAILABLE",
            Status::Internal => "INTERNAL",
        }
    }
}

/// An error with the ABI status an export returns for it.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    status: Status,
    msg: String,
}

impl Error {
    /// An analyzer error (status INTERNAL when returned from analyze,
    /// INVALID_ARGUMENT from init).
    pub fn new(msg: impl Into<String>) -> Error {
        Error { status: Status::Internal, msg: msg.into() }
    }

    pub fn with_status(status: Status, msg: String) -> Error {
        Error { status, msg }
    }

    /// The error for a negative status a host function returned.
    pub fn from_status(code: i32, op: &str) -> Error {
        let st = Status::from_code(code);
        Error { status: st, msg: format!("{}: {} ({})", op, st.name(), code) }
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.msg
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({}: {})", self.status.name(), self.msg)
    }
}

impl std::error::Error for Error {}

impl From<&str> for Error {
    fn from(s: &str) -> Error {
        Error::new(s)
    }
}

impl From<String> for Error {
    fn from(s: String) -> Error {
        Error::new(s)
    }
}

/// Glue between the exports the macro generates and an [`Analyzer`]. Not
/// part of the public API.
#[doc(hidden)]
pub mod __rt {
    use crate::host::{self, Level};
    use crate::{AlignedBuf, Analyzer, Emitter, Error, Input, Options, Status};

    /// One instance: the analyzer plus the buffers reused across calls.
    pub struct Runtime<A> {
        analyzer: Option<A>,
        make: Option<fn() -> A>,
        input: AlignedBuf,
        alert: Vec<u8>,
    }

    impl<A: Analyzer> Runtime<A> {
        pub const fn new(make: fn() -> A) -> Self {
            Runtime { analyzer: None, make: Some(make), input: AlignedBuf::new(), alert: Vec::new() }
        }

        pub fn with(a: A) -> Self {
            Runtime { analyzer: Some(a), make: None, input: AlignedBuf::new(), alert: Vec::new() }
        }

        pub fn analyzer(&mut self) -> Option<&mut A> {
            self.analyzer.as_mut()
        }

        fn read_input(&mut self, len: i32) -> Result<(), i32> {
            if len < 0 {
                return Err(Status::InvalidArgument as i32);
            }
            let buf = self.input.as_mut_bytes(len as usize);
            if len == 0 {
                return Ok(());
            }
            let n = host::raw_input_read(buf);
            if n < 0 {
                return Err(n);
            }
            if n != len {
                return Err(Status::Internal as i32);
            }
            Ok(())
        }

        fn fail(what: &str, e: &Error, default: Status) -> i32 {
            host::log(Level::Error, &format!("{}: {}", what, e));
            match e.status() {
                Status::Ok => default as i32,
                st => st as i32,
            }
        }

        pub fn init(&mut self, len: i32) -> i32 {
            install_panic_hook();
            if let Err(st) = self.read_input(len) {
                return st;
            }
            let opts = match Options::parse(self.input.as_bytes()) {
                Ok(o) => o,
                Err(e) => return Self::fail("init", &e, Status::InvalidArgument),
            };
            if self.analyzer.is_none() {
                if let Some(make) = self.make {
                    self.analyzer = Some(make());
                }
            }
            let a = match self.analyzer.as_mut() {
                Some(a) => a,
                None => return Status::Internal as i32,
            };
            match a.init(&opts) {
                Ok(()) => 0,
                // An analyzer's own error (Error::new) in init means "bad options".
                Err(e) if e.status() == Status::Internal => Self::fail("init", &e, Status::InvalidArgument).max(-1),
                Err(e) => Self::fail("init", &e, Status::InvalidArgument),
            }
        }

        pub fn analyze(&mut self, len: i32) -> i32 {
            if let Err(st) = self.read_input(len) {
                return st;
            }
            let Runtime { analyzer, input, alert, .. } = self;
            let a = match analyzer.as_mut() {
                Some(a) => a,
                None => return Status::Unavailable as i32,
            };
            let inp = match Input::parse(input.as_bytes()) {
                Ok(i) => i,
                Err(e) => return Self::fail("analyze", &e, Status::InvalidArgument),
            };
            let mut sink = |b: &[u8]| host::raw_emit_alert(b);
            let mut out = Emitter::new(inp.series(), inp.num_fields(), alert, &mut sink);
            match a.analyze(&inp, &mut out) {
                Ok(()) => 0,
                Err(e) => Self::fail("analyze", &e, Status::Internal),
            }
        }

        pub fn state_save(&mut self) -> i32 {
            let a = match self.analyzer.as_mut() {
                Some(a) => a,
                None => return 0,
            };
            match a.save_state() {
                Ok(blob) if blob.is_empty() => 0,
                Ok(blob) => host::save_blob(&blob).min(0),
                Err(e) => Self::fail("state save", &e, Status::Internal),
            }
        }

        pub fn state_load(&mut self, len: i32) -> i32 {
            if let Err(st) = self.read_input(len) {
                return st;
            }
            let Runtime { analyzer, input, .. } = self;
            let a = match analyzer.as_mut() {
                Some(a) => a,
                None => return Status::Unavailable as i32,
            };
            match a.load_state(input.as_bytes()) {
                Ok(()) => 0,
                Err(e) => Self::fail("state load", &e, Status::InvalidArgument),
            }
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn install_panic_hook() {
        // A panic aborts (traps); log why first so the host's log says it.
        std::panic::set_hook(Box::new(|info| {
            host::log(Level::Error, &format!("panic: {}", info));
        }));
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn install_panic_hook() {}

    /// Copies the manifest into a fixed-size array for the custom section.
    pub const fn manifest_array<const N: usize>(b: &[u8]) -> [u8; N] {
        let mut a = [0u8; N];
        let mut i = 0;
        while i < N {
            a[i] = b[i];
            i += 1;
        }
        a
    }
}

/// Exports an [`Analyzer`] type as the module's analyzer: generates the
/// `tidemark_init`, `tidemark_analyze`, `tidemark_state_save` and
/// `tidemark_state_load` exports and, with `manifest = ...` (the JSON as a
/// `&[u8]`, e.g. `include_bytes!("manifest.json")`), the `tidemark.manifest`
/// custom section.
///
/// ```text
/// tidemark::export_analyzer!(MyAnalyzer);                                   // Default::default()
/// tidemark::export_analyzer!(MyAnalyzer, manifest = include_bytes!("manifest.json"));
/// tidemark::export_analyzer!(MyAnalyzer, new = MyAnalyzer::new, manifest = br#"{...}"#);
/// ```
#[macro_export]
macro_rules! export_analyzer {
    ($t:ty) => {
        $crate::export_analyzer!(@exports $t, <$t as ::core::default::Default>::default);
    };
    ($t:ty, manifest = $m:expr) => {
        $crate::export_analyzer!(@exports $t, <$t as ::core::default::Default>::default);
        $crate::export_analyzer!(@manifest $m);
    };
    ($t:ty, new = $new:expr) => {
        $crate::export_analyzer!(@exports $t, $new);
    };
    ($t:ty, new = $new:expr, manifest = $m:expr) => {
        $crate::export_analyzer!(@exports $t, $new);
        $crate::export_analyzer!(@manifest $m);
    };
    (@exports $t:ty, $new:expr) => {
        static mut __TIDEMARK_RUNTIME: $crate::__rt::Runtime<$t> = $crate::__rt::Runtime::new($new);

        // Safety (all four): wasm instances are single-threaded and the host
        // calls one export at a time, so there is never a second reference.
        #[no_mangle]
        pub extern "C" fn tidemark_init(options_len: i32) -> i32 {
            unsafe { (*::core::ptr::addr_of_mut!(__TIDEMARK_RUNTIME)).init(options_len) }
        }

        #[no_mangle]
        pub extern "C" fn tidemark_analyze(input_len: i32) -> i32 {
            unsafe { (*::core::ptr::addr_of_mut!(__TIDEMARK_RUNTIME)).analyze(input_len) }
        }

        #[no_mangle]
        pub extern "C" fn tidemark_state_save() -> i32 {
            unsafe { (*::core::ptr::addr_of_mut!(__TIDEMARK_RUNTIME)).state_save() }
        }

        #[no_mangle]
        pub extern "C" fn tidemark_state_load(len: i32) -> i32 {
            unsafe { (*::core::ptr::addr_of_mut!(__TIDEMARK_RUNTIME)).state_load(len) }
        }
    };
    (@manifest $m:expr) => {
        const __TIDEMARK_MANIFEST_JSON: &[u8] = $m;

        #[cfg(target_arch = "wasm32")]
        #[link_section = "tidemark.manifest"]
        #[used]
        static __TIDEMARK_MANIFEST: [u8; __TIDEMARK_MANIFEST_JSON.len()] =
            $crate::__rt::manifest_array(__TIDEMARK_MANIFEST_JSON);
    };
}
