//! `test-certs DIR`: write the TLS tests' certificates into DIR (see tests/support/certs.rs).

#[path = "../tests/support/certs.rs"]
mod certs;

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: test-certs DIR");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    if let Err(err) = std::fs::create_dir_all(&dir).and_then(|()| certs::write_all(&dir)) {
        eprintln!("test-certs: {}: {err}", dir.display());
        std::process::exit(1);
    }
}
