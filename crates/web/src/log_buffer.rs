//! Log lines written in batches, off the request's path.
//!
//! Every request ends with a log line (`ops::observe`). Written straight to standard output,
//! each line is a `write` system call made by the server thread that answered, under the
//! output's lock: a tenth of a server thread's time under a rush of shop pages (measured with
//! `perf`). Here a line is copied into a shared buffer (a lock held for that copy only), and a
//! thread of its own writes the buffer out every [`EVERY`], or sooner when it holds
//! [`FULL`] bytes: one system call for hundreds of lines, as nginx's `access_log … buffer=`.
//!
//! `tracing-appender`'s non-blocking writer was tried first: it hands each line to its thread
//! through a channel, and that thread, idle between lines, must be woken for each one: a
//! futex call and a thread switch per request instead of a `write`, which measured no better.
//!
//! A line waits [`EVERY`] at most before it is written; at exit ([`LogGuard`] dropped) the
//! rest is written. A process killed with `kill -9` loses that much of its log, at most. When
//! the output does not keep up (a pipe nobody reads), a thread logging waits once
//! [`MOST`] bytes are waiting, as it waited for `write` before: lines are never dropped.

use std::{
    io::Write,
    sync::{Arc, Condvar, Mutex, MutexGuard},
    thread::JoinHandle,
    time::Duration,
};

/// How long a line may wait to be written.
pub const EVERY: Duration = Duration::from_millis(50);
/// Past this many bytes waiting, the writing thread is woken at once.
const FULL: usize = 64 * 1024;
/// Past this many bytes waiting, a thread logging waits for the output.
const MOST: usize = 8 * 1024 * 1024;

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// The writing thread waits here (for [`FULL`], the end, or [`EVERY`]).
    filled: Condvar,
    /// Threads logging past [`MOST`] wait here for a batch to be written.
    drained: Condvar,
}

#[derive(Default)]
struct State {
    lines: Vec<u8>,
    ending: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A thread that panicked while copying a line leaves the buffer usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Where the log lines go: clone it into the subscriber (`with_writer(move || buffer.clone())`).
#[derive(Clone)]
pub struct LogBuffer(Arc<Shared>);

/// Keeps the writing thread; dropping it writes what is waiting and ends the thread.
#[must_use = "the lines not yet written are lost when this is dropped"]
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LogBuffer {
    /// A buffer written to `out` by a thread named `halle-log`.
    pub fn new(mut out: impl Write + Send + 'static) -> std::io::Result<(Self, LogGuard)> {
        let shared = Arc::new(Shared::default());
        let for_thread = shared.clone();
        let thread = std::thread::Builder::new()
            .name("halle-log".into())
            .spawn(move || {
                let mut batch = Vec::new();
                loop {
                    let ending = {
                        let mut s = for_thread.lock();
                        if s.lines.len() < FULL && !s.ending {
                            s = for_thread
                                .filled
                                .wait_timeout(s, EVERY)
                                .map_or_else(|p| p.into_inner().0, |(s, _)| s);
                        }
                        std::mem::swap(&mut batch, &mut s.lines);
                        s.ending
                    };
                    for_thread.drained.notify_all();
                    if !batch.is_empty() {
                        // Nowhere to say that the log cannot be written: go on.
                        let _ = out.write_all(&batch).and_then(|()| out.flush());
                        batch.clear();
                    }
                    if ending && for_thread.lock().lines.is_empty() {
                        return;
                    }
                }
            })?;
        Ok((
            Self(shared.clone()),
            LogGuard {
                shared,
                thread: Some(thread),
            },
        ))
    }
}

impl Write for LogBuffer {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut s = self.0.lock();
        while s.lines.len() >= MOST && !s.ending {
            s = self.0.drained.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        s.lines.extend_from_slice(line);
        if s.lines.len() >= FULL {
            self.0.filled.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().ending = true;
        self.shared.filled.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Outcome = Result<(), Box<dyn std::error::Error>>;

    /// An output the test can read back.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<u8>>>);

    impl Seen {
        fn bytes(&self) -> Result<Vec<u8>, &'static str> {
            self.0.lock().map(|b| b.clone()).map_err(|_| "poisoned")
        }
    }

    impl Write for Seen {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_whole_in_order_and_the_rest_at_the_end() -> Outcome {
        let seen = Seen::default();
        let (buffer, guard) = LogBuffer::new(seen.clone())?;
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut b = buffer.clone();
                std::thread::spawn(move || -> std::io::Result<()> {
                    for i in 0..5_000 {
                        b.write_all(format!("thread {t} line {i}\n").as_bytes())?;
                    }
                    Ok(())
                })
            })
            .collect();
        for t in threads {
            t.join().map_err(|_| "a thread panicked")??;
        }
        drop(guard);
        let text = String::from_utf8(seen.bytes()?)?;
        assert_eq!(text.lines().count(), 20_000);
        for t in 0..4 {
            let prefix = format!("thread {t} line ");
            let mine: Vec<usize> = text
                .lines()
                .filter_map(|l| l.strip_prefix(&prefix))
                .map(str::parse)
                .collect::<Result<_, _>>()?;
            assert_eq!(mine, (0..5_000).collect::<Vec<_>>(), "thread {t}'s lines");
        }
        Ok(())
    }

    #[test]
    fn a_line_is_written_within_the_period_without_more_coming() -> Outcome {
        let seen = Seen::default();
        let (mut buffer, _guard) = LogBuffer::new(seen.clone())?;
        buffer.write_all(b"alone\n")?;
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while seen.bytes()?.is_empty() {
            assert!(
                std::time::Instant::now() < until,
                "the line was never written"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(seen.bytes()?, b"alone\n");
        Ok(())
    }
}
