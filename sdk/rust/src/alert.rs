//! Alerts (ABI.md §4): the binary layout and the emitter.

use crate::{Error, Status};

/// Size of an encoded alert without its message.
pub const ALERT_HEADER_SIZE: usize = 56;
/// Alerts one analyze call may emit.
pub const MAX_ALERTS_PER_CALL: usize = 10_000;
/// Series/field index meaning "not about one series/field".
pub const NO_INDEX: u32 = 0xFFFF_FFFF;

/// Severity of a reported condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Severity {
    Ok = 0,
    Info = 1,
    Warn = 2,
    Crit = 3,
}

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// The observed value is outside the expected band.
    Anomaly = 0,
    /// The forecast crosses a threshold within `horizon`.
    Prediction = 1,
}

/// One reported condition. Build it with struct update syntax:
/// `Alert { severity: Severity::Warn, series: Some(s), observed: x, ..Alert::default() }`.
/// The default has no series, no field, NaN values, horizon 0, no message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Alert<'m> {
    pub severity: Severity,
    pub kind: Kind,
    /// Index into frame 0's series; `None` for an alert about the whole input.
    pub series: Option<usize>,
    /// Index into the field names; `None` if not about one field.
    pub field: Option<usize>,
    pub observed: f64,
    /// What the model expected (NaN if none).
    pub expected: f64,
    /// Band the value was expected in (NaN if none).
    pub lower: f64,
    pub upper: f64,
    /// Predictions: ns after the window end at which the forecast crosses.
    pub horizon: i64,
    /// Human readable, UTF-8; the host cuts it at 1024 bytes.
    pub message: &'m str,
}

impl Default for Alert<'_> {
    fn default() -> Self {
        Alert {
            severity: Severity::Warn,
            kind: Kind::Anomaly,
            series: None,
            field: None,
            observed: f64::NAN,
            expected: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
            horizon: 0,
            message: "",
        }
    }
}

fn index(i: Option<usize>) -> u32 {
    match i {
        Some(i) if i < NO_INDEX as usize => i as u32,
        _ => NO_INDEX,
    }
}

impl Alert<'_> {
    /// Appends the binary layout of ABI.md §4 to `dst`.
    pub fn encode_into(&self, dst: &mut Vec<u8>) {
        dst.reserve(ALERT_HEADER_SIZE + self.message.len());
        dst.push(self.severity as u8);
        dst.push(self.kind as u8);
        dst.extend_from_slice(&[0, 0]);
        dst.extend_from_slice(&index(self.series).to_le_bytes());
        dst.extend_from_slice(&index(self.field).to_le_bytes());
        dst.extend_from_slice(&(self.message.len() as u32).to_le_bytes());
        for v in [self.observed, self.expected, self.lower, self.upper] {
            dst.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        dst.extend_from_slice(&self.horizon.to_le_bytes());
        dst.extend_from_slice(self.message.as_bytes());
    }

    /// The encoded alert.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode_into(&mut v);
        v
    }
}

/// An alert decoded from its binary layout (for tests and harnesses).
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedAlert {
    pub severity: u8,
    pub kind: u8,
    pub series: u32,
    pub field: u32,
    pub observed: f64,
    pub expected: f64,
    pub lower: f64,
    pub upper: f64,
    pub horizon: i64,
    pub message: String,
}

/// Decodes one alert, with the host's checks (reserved bytes zero,
/// severity ≤ 3, kind ≤ 1, message length consistent, UTF-8).
pub fn decode_alert(b: &[u8]) -> Result<DecodedAlert, Error> {
    let bad = |m: &str| Error::with_status(Status::InvalidArgument, format!("malformed alert: {}", m));
    if b.len() < ALERT_HEADER_SIZE {
        return Err(bad("short"));
    }
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let u64_at = |o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[o..o + 8]);
        u64::from_le_bytes(a)
    };
    if b[0] > 3 || b[1] > 1 || b[2] != 0 || b[3] != 0 {
        return Err(bad("severity, kind or reserved bytes"));
    }
    if u32_at(12) as usize != b.len() - ALERT_HEADER_SIZE {
        return Err(bad("message length"));
    }
    let message = std::str::from_utf8(&b[ALERT_HEADER_SIZE..]).map_err(|_| bad("message is not UTF-8"))?;
    Ok(DecodedAlert {
        severity: b[0],
        kind: b[1],
        series: u32_at(4),
        field: u32_at(8),
        observed: f64::from_bits(u64_at(16)),
        expected: f64::from_bits(u64_at(24)),
        lower: f64::from_bits(u64_at(32)),
        upper: f64::from_bits(u64_at(40)),
        horizon: u64_at(48) as i64,
        message: message.to_string(),
    })
}

/// Sends alerts to the host (or, in native tests, to a collector). Indices
/// are checked against the input before anything is sent.
pub struct Emitter<'a> {
    buf: &'a mut Vec<u8>,
    sink: &'a mut dyn FnMut(&[u8]) -> i32,
    series: usize,
    fields: usize,
    count: usize,
}

impl<'a> Emitter<'a> {
    /// An emitter for an input of `series` series and `fields` fields that
    /// encodes each alert into `buf` and hands it to `sink`, which returns an
    /// ABI status. Analyzers get theirs from the SDK.
    pub fn new(series: usize, fields: usize, buf: &'a mut Vec<u8>, sink: &'a mut dyn FnMut(&[u8]) -> i32) -> Self {
        Emitter { buf, sink, series, fields, count: 0 }
    }

    /// Reports one condition. Fails with OUT_OF_BOUNDS for a series/field
    /// index outside the input, LIMIT_EXCEEDED past 10,000 alerts, or the
    /// host's status.
    pub fn emit(&mut self, a: Alert<'_>) -> Result<(), Error> {
        if let Some(s) = a.series {
            if s >= self.series {
                return Err(Error::with_status(Status::OutOfBounds, format!("alert series {} of {}", s, self.series)));
            }
        }
        if let Some(f) = a.field {
            if f >= self.fields {
                return Err(Error::with_status(Status::OutOfBounds, format!("alert field {} of {}", f, self.fields)));
            }
        }
        if self.count >= MAX_ALERTS_PER_CALL {
            return Err(Error::with_status(Status::LimitExceeded, "too many alerts in one window".into()));
        }
        self.buf.clear();
        a.encode_into(self.buf);
        let st = (self.sink)(self.buf);
        if st < 0 {
            return Err(Error::from_status(st, "emit_alert"));
        }
        self.count += 1;
        Ok(())
    }

    /// Alerts emitted so far in this call.
    pub fn count(&self) -> usize {
        self.count
    }
}
