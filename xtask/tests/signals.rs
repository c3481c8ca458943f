//! Stopping a `cargo xtask` command stops what it started: SIGTERM to `cargo xtask serve` or
//! `cargo xtask contract` (the process a shell's `$!` names) ends the server with it, and its
//! port is free again.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn xtask(args: &[&str]) -> Child {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .arg("xtask")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo runs")
}

fn terminate(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        if child.try_wait().expect("waits").is_some() {
            return;
        }
        assert!(Instant::now() < until, "still running 20 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether nothing listens on `port` any more, within a few seconds.
fn freed(port: u16) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        let nobody = TcpStream::connect(("127.0.0.1", port)).is_err();
        if nobody && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// The port in the first line of `child`'s stderr that names a URL of 127.0.0.1; the rest of
/// stderr is read on (a closed pipe would stop the child by itself).
fn port_from_stderr(child: &mut Child) -> u16 {
    let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
    let mut port = None;
    for line in lines.by_ref() {
        let line = line.expect("text");
        if let Some(at) = line.find("http://127.0.0.1:") {
            let rest = &line[at + "http://127.0.0.1:".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            port = Some(digits.parse().expect("a port"));
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    port.expect("a URL on stderr")
}

#[test]
fn sigterm_to_xtask_serve_frees_its_port() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = xtask(&["serve", "--port", &port.to_string()]);
    let until = Instant::now() + Duration::from_secs(300);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "serve did not listen");
        assert!(child.try_wait().unwrap().is_none(), "serve stopped");
        std::thread::sleep(Duration::from_millis(100));
    }
    terminate(&mut child);
    assert!(freed(port), "port {port} still held after SIGTERM");
}

#[test]
fn sigterm_to_xtask_contract_stops_its_embedded_server() {
    // A run long enough to be stopped midway.
    let mut child = xtask(&["contract", "--cases", "1000000", "--deadline", "600"]);
    let port = port_from_stderr(&mut child);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    terminate(&mut child);
    assert!(freed(port), "port {port} still held after SIGTERM");
}
