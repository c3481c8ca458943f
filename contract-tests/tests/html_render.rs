//! The HTML report renders in a real browser: headless Chromium loads it and the coverage matrix,
//! the failing cell and the reproducer are in the rendered page. Skipped, with a notice, where
//! Chromium is not installed (`.ci/run` installs Debian's `chromium`).

use contract_tests::server::{self, Fault};
use contract_tests::{report, run, Settings};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// Runs Chromium headless with `args` on `page`; its standard output, bounded to 60 s.
fn headless(bin: &Path, profile: &Path, args: &[&str], page: &Path) -> String {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut out = String::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut out)
        .expect("utf-8 DOM");
    out
}

#[test]
fn the_html_report_renders_in_chromium() {
    let Some(bin) = chromium() else {
        eprintln!(
            "notice: chromium not found; HTML rendering test skipped (apt-get install chromium)"
        );
        return;
    };
    let srv = server::spawn(server::DEFAULT_API_KEY, &[Fault::BoundOffByOne]).unwrap();
    let mut s = Settings::new(
        &srv.url,
        Some(server::DEFAULT_API_KEY.into()),
        server::CVM_ID,
    );
    s.cases = 32;
    let r = run(&s);
    let dir = std::env::temp_dir().join(format!("contract-html-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("report.html");
    report::write("html", &page, &r, &[]).unwrap();

    let dom = headless(&bin, &dir.join("profile"), &["--dump-dom"], &page);
    assert!(
        dom.contains("Contract report: failed"),
        "rendered title:\n{dom}"
    );
    assert!(
        dom.contains("<table id=\"coverage\">"),
        "the coverage matrix renders"
    );
    assert!(dom.contains("<th>shutdown_timeout</th>") && dom.contains("<th>below_minimum</th>"));
    assert!(dom.contains("class=\"bad\""), "the failing cell is marked");
    assert!(
        dom.contains("curl -sS -X PATCH"),
        "the reproducer is on the page"
    );

    let shot = dir.join("report.png");
    headless(
        &bin,
        &dir.join("profile"),
        &[
            "--window-size=1400,2400",
            &format!("--screenshot={}", shot.display()),
        ],
        &page,
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a real picture ({} bytes)",
        png.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
