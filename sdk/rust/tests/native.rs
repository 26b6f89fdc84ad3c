//! The SDK's own paths through the native harness: emitter checks, state,
//! logs, the hot-reload hand-over and error statuses.

use tidemark::testing::{self, Harness, TestFrame, TestInput};
use tidemark::{Alert, Analyzer, Emitter, Error, Input, Level, Options, Status};

fn input(series: usize) -> Vec<u8> {
    TestInput {
        instance: "inst".into(),
        pipeline: "pipe".into(),
        tag_names: vec!["host".into(), "dc".into()],
        field_names: vec!["count".into()],
        series: (0..series).map(|s| vec![format!("h{}", s), "fra".into()]).collect(),
        frames: vec![TestFrame { columns: vec![vec![1.0; series]], ..TestFrame::default() }],
        ..TestInput::default()
    }
    .encode()
}

/// Does what its options say, to reach each SDK path.
#[derive(Default)]
struct Scripted {
    what: String,
    windows: u64,
}

impl Analyzer for Scripted {
    fn init(&mut self, opts: &Options) -> Result<(), Error> {
        self.what = opts.string("what", "").to_string();
        Ok(())
    }

    fn analyze(&mut self, input: &Input, out: &mut Emitter) -> Result<(), Error> {
        self.windows += 1;
        match self.what.as_str() {
            "bad_series" => out.emit(Alert { series: Some(input.series()), ..Alert::default() }),
            "bad_field" => out.emit(Alert { field: Some(1), ..Alert::default() }),
            "flood" => {
                for _ in 0..10_001 {
                    out.emit(Alert::default())?;
                }
                Ok(())
            }
            "fail" => {
                out.emit(Alert::default())?;
                Err(Error::new("chose to fail"))
            }
            "state" => {
                let n = tidemark::state_get("n")?.map_or(0, |b| b[0]) + 1;
                tidemark::state_set("n", &[n])?;
                assert_eq!(tidemark::state_set("", b"x").unwrap_err().status(), Status::InvalidArgument);
                assert_eq!(tidemark::query("q").unwrap_err().status(), Status::PermissionDenied);
                assert_eq!(tidemark::clock_now().unwrap_err().status(), Status::PermissionDenied);
                tidemark::log(Level::Warn, &input.series_key(0));
                out.emit(Alert { series: Some(0), field: Some(0), observed: n as f64, ..Alert::default() })
            }
            _ => Ok(()),
        }
    }

    fn save_state(&mut self) -> Result<Vec<u8>, Error> {
        Ok(self.windows.to_le_bytes().to_vec())
    }

    fn load_state(&mut self, blob: &[u8]) -> Result<(), Error> {
        let mut a = [0u8; 8];
        a.copy_from_slice(blob);
        self.windows = u64::from_le_bytes(a);
        Ok(())
    }
}

fn start(what: &str) -> Harness<Scripted> {
    testing::reset();
    Harness::start(Scripted::default(), &format!(r#"{{"what":"{}"}}"#, what)).unwrap()
}

#[test]
fn emitter_checks_indices_and_the_limit() {
    for (what, status) in
        [("bad_series", Status::OutOfBounds), ("bad_field", Status::OutOfBounds), ("flood", Status::LimitExceeded)]
    {
        let e = start(what).analyze(&input(2)).unwrap_err();
        assert_eq!(e.status(), status, "{}: {:?}", what, e);
    }
}

#[test]
fn a_failed_call_discards_its_alerts_and_keeps_the_instance() {
    let mut h = start("fail");
    let e = h.analyze(&input(1)).unwrap_err();
    assert_eq!(e.status(), Status::Internal);
    assert!(testing::logs().iter().any(|(l, m)| *l == 3 && m.contains("chose to fail")));
    h.analyzer().what = String::new();
    assert!(h.analyze(&input(1)).unwrap().is_empty());
}

#[test]
fn state_logs_and_reload() {
    let mut old = start("state");
    for n in 1..=3 {
        let a = old.analyze(&input(1)).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!((a[0].series, a[0].field, a[0].observed), (0, 0, n as f64));
    }
    assert_eq!(testing::logs().last().unwrap(), &(2, "host=h0,dc=fra".to_string()));
    let mut next = Harness::start(Scripted::default(), r#"{"what":"state"}"#).unwrap();
    old.reload_into(&mut next).unwrap();
    assert_eq!(next.analyzer().windows, 3, "in-memory state carried over");
    let a = next.analyze(&input(1)).unwrap();
    assert_eq!(a[0].observed, 4.0, "host-held state shared");
}

#[test]
fn empty_input_series_and_empty_options() {
    testing::reset();
    let mut h = Harness::start(Scripted::default(), "").unwrap();
    assert!(h.analyze(&input(0)).unwrap().is_empty());
}
