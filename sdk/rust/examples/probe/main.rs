//! Test analyzer for sdk/rust/rust_test.go: uses every host function under
//! the real host. Each analyze call reports one info alert about the whole
//! input: observed = windows seen according to host-held state, expected =
//! windows seen according to in-memory state (carried across a hot reload
//! by save_state/load_state), and a message with what the other host
//! functions answered.

use tidemark::{Alert, Analyzer, Emitter, Error, Input, Level, Options, Severity};

#[derive(Default)]
pub struct Probe {
    panic: bool,
    in_memory: u64,
}

fn status_name(r: Result<impl Sized, Error>) -> &'static str {
    match r {
        Ok(_) => "OK",
        Err(e) => e.status().name(),
    }
}

impl Analyzer for Probe {
    fn init(&mut self, opts: &Options) -> Result<(), Error> {
        tidemark::log(Level::Info, "probe init");
        if opts.bool("fail_init", false) {
            return Err("fail_init is set".into());
        }
        self.panic = opts.bool("panic", false);
        Ok(())
    }

    fn analyze(&mut self, input: &Input, out: &mut Emitter) -> Result<(), Error> {
        if self.panic {
            panic!("probe panic at window {}", input.window_start());
        }
        let stored = match tidemark::state_get("windows")? {
            Some(b) if b.len() == 8 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(&b);
                u64::from_le_bytes(a)
            }
            _ => 0,
        };
        tidemark::state_set("windows", &(stored + 1).to_le_bytes())?;
        // A value longer than state_get's first buffer (256 bytes).
        let big = vec![b'x'; 1000];
        tidemark::state_set("big", &big)?;
        let big_back = tidemark::state_get("big")?.map_or(0, |b| b.len());
        let missing = tidemark::state_get("never-set")?;
        self.in_memory += 1;
        let key = if input.series() > 0 { input.series_key(0) } else { String::new() };
        let message = format!(
            "query {} clock {} big {} missing {} series {} key {} instance {}",
            status_name(tidemark::query("buckets()")),
            status_name(tidemark::clock_now()),
            big_back,
            missing.is_none(),
            input.series(),
            key,
            input.instance(),
        );
        tidemark::log(Level::Debug, &message);
        out.emit(Alert {
            severity: Severity::Info,
            observed: (stored + 1) as f64,
            expected: self.in_memory as f64,
            message: &message,
            ..Alert::default()
        })
    }

    fn save_state(&mut self) -> Result<Vec<u8>, Error> {
        Ok(self.in_memory.to_le_bytes().to_vec())
    }

    fn load_state(&mut self, blob: &[u8]) -> Result<(), Error> {
        if blob.len() != 8 {
            return Err(Error::new(format!("state blob of {} bytes, want 8", blob.len())));
        }
        let mut a = [0u8; 8];
        a.copy_from_slice(blob);
        self.in_memory = u64::from_le_bytes(a);
        Ok(())
    }
}

tidemark::export_analyzer!(Probe, manifest = include_bytes!("manifest.json"));
