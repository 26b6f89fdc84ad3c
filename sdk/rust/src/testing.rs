//! Running an analyzer natively under `cargo test`, through the same code
//! the wasm exports run (option parsing, input decoding, alert encoding and
//! checks), with an in-process stand-in for the host functions. To test
//! the built module under the real host, see `sdk/rust/rust_test.go`.
//!
//! ```text
//! let mut h = tidemark::testing::Harness::start(MyAnalyzer::default(), r#"{"field":"sum_bytes"}"#)?;
//! let alerts = h.analyze(&encoded_input)?;          // Vec<DecodedAlert>
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::__rt::Runtime;
use crate::{decode_alert, Analyzer, DecodedAlert, Error, Status};

/// What the native stand-in host holds for the current thread.
#[derive(Default)]
pub struct NativeHost {
    pub input: Vec<u8>,
    pub alerts: Vec<Vec<u8>>,
    pub logs: Vec<(i32, String)>,
    pub state: BTreeMap<Vec<u8>, Vec<u8>>,
    pub analyzing: bool,
    pub saving: bool,
    pub saved: Option<Vec<u8>>,
}

thread_local! {
    static NATIVE: RefCell<NativeHost> = RefCell::new(NativeHost::default());
}

/// Runs `f` on this thread's native host.
pub fn with_native<R>(f: impl FnOnce(&mut NativeHost) -> R) -> R {
    NATIVE.with(|h| f(&mut h.borrow_mut()))
}

/// One analyzer instance driven like the host drives a module.
pub struct Harness<A: Analyzer> {
    rt: Runtime<A>,
}

impl<A: Analyzer> Harness<A> {
    /// Initialises `analyzer` with the options JSON (give it with the
    /// manifest defaults filled in, as the host would).
    pub fn start(analyzer: A, options_json: &str) -> Result<Self, Error> {
        let mut h = Harness { rt: Runtime::with(analyzer) };
        let st = h.call(options_json.as_bytes(), false, |rt, n| rt.init(n));
        if st < 0 {
            return Err(Error::from_status(st, &format!("init (log: {:?})", logs())));
        }
        Ok(h)
    }

    fn call(&mut self, input: &[u8], analyzing: bool, f: impl FnOnce(&mut Runtime<A>, i32) -> i32) -> i32 {
        with_native(|h| {
            h.input = input.to_vec();
            h.alerts.clear();
            h.analyzing = analyzing;
        });
        let st = f(&mut self.rt, input.len() as i32);
        with_native(|h| {
            h.input.clear();
            h.analyzing = false;
        });
        st
    }

    /// Runs one window; returns the encoded alerts, or the call's status as
    /// an error (its alerts discarded, as the host does).
    pub fn analyze_raw(&mut self, input: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        let st = self.call(input, true, |rt, n| rt.analyze(n));
        let alerts = with_native(|h| std::mem::take(&mut h.alerts));
        if st < 0 {
            return Err(Error::from_status(st, &format!("analyze (log: {:?})", logs())));
        }
        Ok(alerts)
    }

    /// Runs one window and decodes its alerts.
    pub fn analyze(&mut self, input: &[u8]) -> Result<Vec<DecodedAlert>, Error> {
        self.analyze_raw(input)?.iter().map(|b| decode_alert(b)).collect()
    }

    /// The hot-reload hand-over: `save_state` here, `load_state` on `next`.
    pub fn reload_into<B: Analyzer>(&mut self, next: &mut Harness<B>) -> Result<(), Error> {
        with_native(|h| {
            h.saving = true;
            h.saved = None;
        });
        let st = self.rt.state_save();
        let blob = with_native(|h| {
            h.saving = false;
            h.saved.take()
        });
        if st < 0 {
            return Err(Error::from_status(st, "state save"));
        }
        if let Some(blob) = blob {
            let st = next.call(&blob, false, |rt, n| rt.state_load(n));
            if st < 0 {
                return Err(Error::from_status(st, "state load"));
            }
        }
        Ok(())
    }

    /// The analyzer itself.
    pub fn analyzer(&mut self) -> &mut A {
        self.rt.analyzer().expect("started")
    }
}

/// Log lines so far on this thread (level, message).
pub fn logs() -> Vec<(i32, String)> {
    with_native(|h| h.logs.clone())
}

/// Clears this thread's native host (state, logs, alerts).
pub fn reset() {
    with_native(|h| *h = NativeHost::default());
}

/// The status an error carries, as the i32 an export would return.
pub fn status_code(e: &Error) -> i32 {
    match e.status() {
        Status::Ok => 0,
        s => s as i32,
    }
}

/// An analyze input to encode for tests (the layout of ABI.md §3, as the
/// host writes it). Tag values are dictionary-coded in order of first use.
#[derive(Clone, Debug, Default)]
pub struct TestInput {
    pub flags: u32,
    pub window_start: i64,
    pub window_end: i64,
    pub instance: String,
    pub pipeline: String,
    pub tag_names: Vec<String>,
    pub field_names: Vec<String>,
    /// One row of tag values per series.
    pub series: Vec<Vec<String>>,
    /// Frame 0 first, then history newest first.
    pub frames: Vec<TestFrame>,
}

/// One frame of a [`TestInput`]: `columns[f][s]`.
#[derive(Clone, Debug, Default)]
pub struct TestFrame {
    pub start: i64,
    pub end: i64,
    pub flags: u32,
    pub columns: Vec<Vec<f64>>,
}

fn pad8(b: &mut Vec<u8>) {
    while b.len() % 8 != 0 {
        b.push(0);
    }
}

impl TestInput {
    /// The encoded input. Panics if the shape is inconsistent.
    pub fn encode(&self) -> Vec<u8> {
        let (t, f, s) = (self.tag_names.len(), self.field_names.len(), self.series.len());
        let mut strings: Vec<&str> = vec![&self.instance, &self.pipeline];
        strings.extend(self.tag_names.iter().map(String::as_str));
        strings.extend(self.field_names.iter().map(String::as_str));
        let fixed = strings.len();
        let mut ids: Vec<u32> = Vec::with_capacity(s * t);
        for row in &self.series {
            assert_eq!(row.len(), t, "series row width");
            for v in row {
                let id = match strings[fixed..].iter().position(|x| x == v) {
                    Some(i) => fixed + i,
                    None => {
                        strings.push(v);
                        strings.len() - 1
                    }
                };
                ids.push(id as u32);
            }
        }
        let mut b = vec![0u8; 64];
        let mut off = 0u32;
        b.extend_from_slice(&0u32.to_le_bytes());
        for st in &strings {
            off += st.len() as u32;
            b.extend_from_slice(&off.to_le_bytes());
        }
        for st in &strings {
            b.extend_from_slice(st.as_bytes());
        }
        pad8(&mut b);
        let series_off = b.len() as u32;
        for id in &ids {
            b.extend_from_slice(&id.to_le_bytes());
        }
        pad8(&mut b);
        let frames_off = b.len() as u32;
        let stride = (24 + 8 * f * s) as u32;
        assert!(!self.frames.is_empty(), "frame 0 is required");
        for fr in &self.frames {
            assert_eq!(fr.columns.len(), f, "columns per frame");
            b.extend_from_slice(&fr.start.to_le_bytes());
            b.extend_from_slice(&fr.end.to_le_bytes());
            b.extend_from_slice(&fr.flags.to_le_bytes());
            b.extend_from_slice(&0u32.to_le_bytes());
            for col in &fr.columns {
                assert_eq!(col.len(), s, "values per column");
                for v in col {
                    b.extend_from_slice(&v.to_bits().to_le_bytes());
                }
            }
        }
        let total = b.len() as u32;
        b[0..4].copy_from_slice(b"TMK1");
        b[4..6].copy_from_slice(&1u16.to_le_bytes());
        b[6..8].copy_from_slice(&0u16.to_le_bytes());
        b[8..12].copy_from_slice(&self.flags.to_le_bytes());
        b[12..16].copy_from_slice(&total.to_le_bytes());
        b[16..24].copy_from_slice(&self.window_start.to_le_bytes());
        b[24..32].copy_from_slice(&self.window_end.to_le_bytes());
        let words = [
            strings.len() as u32,
            t as u32,
            f as u32,
            s as u32,
            self.frames.len() as u32,
            series_off,
            frames_off,
            stride,
        ];
        for (i, w) in words.iter().enumerate() {
            b[32 + 4 * i..36 + 4 * i].copy_from_slice(&w.to_le_bytes());
        }
        b
    }
}
