//! A FastAPI app of `targets/` under uvicorn, on a free port of 127.0.0.1, for the tests that
//! run against a real framework; killed when dropped. Skipped, with a notice, where Python lacks
//! fastapi and uvicorn (`.ci/run` installs them).

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running app; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `python3` can import fastapi and uvicorn.
pub fn python_has_fastapi() -> bool {
    Command::new("python3")
        .args(["-c", "import fastapi, uvicorn"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts `app` (`module:attribute` in `targets/`) with `env`, and waits until it listens.
pub fn start(app: &str, env: &[(&str, &str)]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/targets");
    let child = Command::new("python3")
        .args([
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--log-level",
            "warning",
        ])
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        // Planted crashes' tracebacks are expected; the tests read the suite's report.
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let url = format!("http://127.0.0.1:{port}");
    let until = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "uvicorn did not start within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    Server { child, url }
}
