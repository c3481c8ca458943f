//! `cargo bench -p contract-tests`: the suite against the embedded reference server on 127.0.0.1
//! (release build), side by side in one run with the server's own single-connection ceiling, and
//! the cost of a target that applies updates late.
//!
//! - ceiling: one kept-alive connection sending the same valid PATCH as fast as the answers come
//!   back, from a minimal blocking client (what `wrk -c1` measures), for `BENCH_CEILING_SECS`;
//! - the suite at `--concurrency 1` (one connection, like the ceiling) and at its loopback
//!   default (4), `BENCH_CASES` cases (default 2000);
//! - both in `BENCH_ROUNDS` rounds (default 3), each a ceiling then the suite's runs; the suite's
//!   median rate is set against the best ceiling (the delay comparisons below alternate prompt
//!   and late runs as many times, and compare medians);
//! - the suite against updates shown 1 s late, at the same and at `BENCH_DELAY_CASES` cases
//!   (default 8000), against the same cases with no delay;
//! - the same against a target `BENCH_LATENCY_MS` (default 2) away, at the default case count
//!   and one connection, as a staging server is run against.

use contract_tests::server::{self, Timing};
use contract_tests::{run, Report, Settings};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The allocator the suite and the server run faster with (both allocate per request).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

/// Requests per second one connection gets from the server, answers read in full.
fn ceiling(url: &str, secs: f64) -> f64 {
    let addr = url.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).expect("the server listens");
    conn.set_nodelay(true).expect("nodelay");
    let body = r#"{"vcpu":2}"#;
    let request = format!(
        "PATCH /api/v1/cvms/{} HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        server::CVM_ID,
        server::DEFAULT_API_KEY,
        body.len()
    );
    let mut buf = vec![0u8; 64 * 1024];
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut n = 0u64;
    while Instant::now() < until {
        conn.write_all(request.as_bytes()).expect("write");
        // Read one whole answer: headers, then Content-Length bytes.
        let mut got = 0;
        loop {
            let k = conn.read(&mut buf[got..]).expect("read");
            assert!(k > 0, "the server closed the connection");
            got += k;
            let text = &buf[..got];
            if let Some(end) = text.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&text[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if got >= end + 4 + len {
                    break;
                }
            }
        }
        n += 1;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn suite(cases: u32, concurrency: usize, timing: Timing) -> Report {
    let srv = server::spawn_with(0, server::DEFAULT_API_KEY, &[], timing)
        .expect("reference server starts");
    let mut s = Settings::new(
        &srv.url,
        Some(server::DEFAULT_API_KEY.into()),
        server::CVM_ID,
    );
    s.onchain_cvm_id = Some(server::ONCHAIN_CVM_ID.into());
    s.cases = cases;
    s.seed = 1;
    s.concurrency = concurrency;
    let r = run(&s);
    assert_eq!(
        r.exit_code(),
        0,
        "the reference server passes:\n{}",
        contract_tests::report::summary(&r, &[])
    );
    r
}

fn main() {
    let cases: u32 = env_num("BENCH_CASES", 2000);
    let delay_cases: u32 = env_num("BENCH_DELAY_CASES", 8000);
    let secs: f64 = env_num("BENCH_CEILING_SECS", 3.0);
    let default_concurrency = Settings::new("http://127.0.0.1", None, "c").concurrency;

    // Rounds of ceiling, then the suite at each concurrency, so that drift in the machine's
    // speed reaches both; the suite's median is set against the best ceiling seen.
    let rounds: usize = env_num("BENCH_ROUNDS", 3).max(1);
    let mut tops = Vec::new();
    let mut runs: Vec<Vec<Report>> = vec![Vec::new(), Vec::new()];
    for _ in 0..rounds {
        let srv = server::spawn(server::DEFAULT_API_KEY, &[]).expect("reference server starts");
        tops.push(ceiling(&srv.url, secs));
        drop(srv);
        for (i, c) in [1, default_concurrency].into_iter().enumerate() {
            runs[i].push(suite(cases, c, Timing::default()));
        }
    }
    let top = tops.iter().copied().fold(0.0, f64::max);
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("contract suite against the reference server (release build), {rounds} rounds");
    println!(
        "  server ceiling, one connection (PATCH, answers read in full): best {top:.0} requests/s [{}]",
        list(&tops)
    );
    for (i, c) in [1, default_concurrency].into_iter().enumerate() {
        let mut rates: Vec<f64> = runs[i].iter().map(Report::requests_per_second).collect();
        let every = list(&rates);
        rates.sort_by(f64::total_cmp);
        let rps = rates[rates.len() / 2];
        let r = &runs[i][0];
        println!(
            "  suite, {cases} cases, --concurrency {c}: {} requests, median {rps:.0} requests/s ({:.0}% of the best ceiling) [{every}]",
            r.requests,
            100.0 * rps / top,
        );
    }
    // Prompt and late runs alternate, `rounds` times; the medians are compared.
    let compare = |label: String, n: u32, c: usize, prompt: Timing, late: Timing| {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            a.push(suite(n, c, prompt).elapsed.as_secs_f64());
            b.push(suite(n, c, late).elapsed.as_secs_f64());
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (a, b) = (median(&mut a), median(&mut b));
        println!(
            "  {label}: updates shown 1 s late: median {b:.2} s against {a:.2} s when prompt ({:+.2} s, {:+.0}%)",
            b - a,
            100.0 * (b - a) / a
        );
    };
    let late = Timing {
        apply_delay: Duration::from_secs(1),
        ..Timing::default()
    };
    for n in [cases, delay_cases] {
        let label = format!("{n} cases, --concurrency {default_concurrency}");
        compare(label, n, default_concurrency, Timing::default(), late);
    }
    // A target across a network (held back `BENCH_LATENCY_MS`, default 2 ms, per answer), at the
    // default case count and one connection (the default beyond loopback), in full mode.
    let latency = Duration::from_millis(env_num("BENCH_LATENCY_MS", 2));
    let away = |apply_delay| Timing {
        latency,
        apply_delay,
        ..Timing::default()
    };
    let default_cases = Settings::new("http://127.0.0.1", None, "c").cases;
    let label = format!("a target {latency:?} away, {default_cases} cases, --concurrency 1");
    compare(
        label,
        default_cases,
        1,
        away(Duration::ZERO),
        away(Duration::from_secs(1)),
    );
}
