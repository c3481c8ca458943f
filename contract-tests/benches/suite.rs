//! `cargo bench -p contract-tests`: requests and cases per second of the whole suite against the
//! embedded reference server on 127.0.0.1 (release build, one client connection at a time).

use contract_tests::server;
use contract_tests::{run, Settings};

fn main() {
    let cases: u32 = std::env::var("BENCH_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2000);
    let srv = server::spawn(server::DEFAULT_API_KEY, &[]).expect("reference server starts");
    let mut s = Settings::new(
        &srv.url,
        Some(server::DEFAULT_API_KEY.into()),
        server::CVM_ID,
    );
    s.onchain_cvm_id = Some(server::ONCHAIN_CVM_ID.into());
    s.cases = cases;
    s.seed = 1;
    let r = run(&s);
    assert_eq!(r.exit_code(), 0, "the reference server passes");
    let secs = r.elapsed.as_secs_f64();
    println!("contract suite against the reference server (release, {cases} cases)");
    println!(
        "  {} requests in {:.2} s: {:.0} requests/s, {:.0} cases/s",
        r.requests,
        secs,
        r.requests as f64 / secs,
        f64::from(r.cases) / secs
    );
}
