//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`, every file) through the
//! target bodies in `netproc::fuzzing`, on stable, so that `make test` re-checks every input
//! the fuzzers ever kept, crashes found and fixed included. No nightly, no libFuzzer.

use std::path::Path;

#[test]
fn every_corpus_input_still_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    // One test, targets in turn: the targets check for leaked descriptors, which other
    // tests running alongside in this process would upset.
    for (target, body) in netproc::fuzzing::TARGETS {
        let dir = root.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
            .map(|entry| entry.expect("readable corpus directory").path())
            .filter(|path| path.is_file())
            .collect();
        assert!(!files.is_empty(), "{}: empty corpus", dir.display());
        files.sort();
        for file in &files {
            let data = std::fs::read(file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
            // Printed only if the test fails: which input broke.
            println!("{target}: {}", file.display());
            body(&data);
        }
        println!("{target}: {} inputs", files.len());
    }
}
