//! The wasmtime engine the modules are compiled for, and the thread that advances its epoch.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;

use anyhow::Context as _;
use wasmtime::{Config, Engine};

use super::EPOCH_TICK;

/// A wasmtime engine with epoch interruption and the thread that advances its epoch.
///
/// Cheap to clone; the ticker stops when the last clone (and every module compiled with it) is gone.
#[derive(Clone)]
pub struct WapcRuntime {
    pub(super) engine: Engine,
    _ticker: Arc<EpochTicker>,
}

impl WapcRuntime {
    pub fn new() -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config)
            .map_err(anyhow::Error::from)
            .context("cannot create the wasmtime engine")?;
        let ticker = EpochTicker::start(engine.clone())?;
        Ok(Self {
            engine,
            _ticker: Arc::new(ticker),
        })
    }

    /// The engine modules are compiled with, as the compiled-module cache keys them.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// Increments the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> anyhow::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                // Dropping the sender ends the wait with `Disconnected`, which stops the loop.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                    engine.increment_epoch();
                }
            })
            .context("cannot start the epoch ticker thread")?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
