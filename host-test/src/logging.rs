//! The binary's end of the library's `tracing` diagnostics: one line each on standard error, as
//! `host-test: message` (`host-test: warning: message` for warnings), so standard output keeps only
//! results. `HOST_TEST_LOG` sets the level (`off`, `error`, `warn`, `info`, the default, `debug`,
//! `trace`).

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::registry::LookupSpan;

/// The environment variable that sets the level.
pub const LEVEL_VARIABLE: &str = "HOST_TEST_LOG";

/// Sends the library's diagnostics to standard error; an unreadable `HOST_TEST_LOG` is said, and
/// the default level kept.
pub fn init() {
    let setting = std::env::var(LEVEL_VARIABLE).ok();
    let level = match setting.as_deref().map(str::parse::<LevelFilter>) {
        None => Ok(LevelFilter::INFO),
        Some(parsed) => parsed,
    };
    tracing_subscriber::fmt()
        .with_max_level(*level.as_ref().unwrap_or(&LevelFilter::INFO))
        .with_writer(std::io::stderr)
        .event_format(HostTestFormat)
        .init();
    if level.is_err() {
        tracing::warn!(
            "{LEVEL_VARIABLE}={:?} is not a level (off, error, warn, info, debug, trace): using info",
            setting.unwrap_or_default()
        );
    }
}

struct HostTestFormat;

impl<S, N> FormatEvent<S, N> for HostTestFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writer.write_str("host-test: ")?;
        match *event.metadata().level() {
            Level::ERROR => writer.write_str("error: ")?,
            Level::WARN => writer.write_str("warning: ")?,
            _ => {}
        }
        context
            .field_format()
            .format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
