//! tolk-translate — tolk from Rust through its C ABI.
//!
//!     tolk-translate [MODEL_DIR] [TEXT] [SRC_LANG] [TGT_LANG]
//!
//! MODEL_DIR defaults to $TOLK_TEST_MODEL, else ../../tests/data/dev (the tiny test checkpoint:
//! "Hello world." → "Aduné."). Translates TEXT synchronously, then a batch, then three async
//! requests (two waited on, one with a callback) and one cancelled.
use std::sync::mpsc;
use std::time::Duration;

use tolk::{Engine, Options, TranslateError};

const LONG_TEXT: &str = "Hello world. Open the file and save it before you close the window, \
                         then print the document. Hello world. Open the file and save it before \
                         you close the window.";

fn run() -> Result<(), TranslateError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let default_model = std::env::var("TOLK_TEST_MODEL")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/dev").to_owned());
    let model_dir = args.first().cloned().unwrap_or(default_model);
    let text = args.get(1).map(String::as_str).unwrap_or("Hello world.");
    let src = args.get(2).map(String::as_str).unwrap_or("eng_Latn");
    let tgt = args.get(3).map(String::as_str).unwrap_or("fra_Latn");

    assert!(tolk::abi_matches(), "libtolk_c's ABI version differs from these declarations");
    println!("tolk {}", tolk::version());
    // One async thread: the request cancelled below is still queued when cancel() arrives.
    let engine = Engine::new(Some(&Options::new().int("async_threads", 1)?.string("log_level", "error")?))?;
    engine.load_model("dev", &model_dir, None)?;
    let opts = Options::new().int("max_new_tokens", 20)?;

    let r = engine.translate("dev", text, src, tgt, Some(&opts))?;
    println!("sync:   {text:?} -> {:?} (score {:.4})", r.text(), r.score());

    let batch = engine.translate_batch("dev", &["Hello world.", "", "Open the file"], src, tgt, Some(&opts))?;
    for (i, item) in batch.iter().enumerate() {
        println!("batch:  [{i}] {} {:?}", item.status(), item.text());
    }

    let a = engine.translate_async("dev", "Hello world.", src, tgt, Some(&opts))?;
    let b = engine.translate_async("dev", "Open the file", src, tgt, Some(&opts))?;
    let (tx, rx) = mpsc::channel();
    let c = engine.translate_async_with("dev", "Save the document.", src, tgt, Some(&opts), move |r| {
        // Runs on an engine thread: hand the text over and return.
        let _ = tx.send(r.map(|r| r.text().to_owned()));
    })?;
    for (name, req) in [("a", &a), ("b", &b)] {
        if let Some(r) = req.wait(Some(Duration::from_secs(60)))? {
            println!("async:  {name} -> {:?}", r.text());
        }
    }
    let from_callback = rx.recv_timeout(Duration::from_secs(60)).expect("callback never fired")?;
    println!("async:  c (callback) -> {from_callback:?}");
    c.wait(None)?; // Ok(None): the callback had the result

    let long = Options::new().int("max_new_tokens", 200)?;
    let running: Vec<_> = (0..3)
        .map(|_| engine.translate_async("dev", LONG_TEXT, src, tgt, Some(&long)))
        .collect::<Result<_, _>>()?;
    running[2].cancel()?;
    for (i, req) in running.iter().enumerate() {
        match req.wait(Some(Duration::from_secs(60))) {
            Ok(r) => println!("cancel: request {i}: finished ({} characters)",
                              r.map_or(0, |r| r.text().chars().count())),
            Err(e) => println!("cancel: request {i}: {e}"),
        }
    }

    match engine.translate("dev", "Hello", src, "xxx_Latn", None) {
        Err(e) => println!("error:  {e}"),
        Ok(r) => println!("error:  unexpectedly translated: {:?}", r.text()),
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("failed: {e}");
        std::process::exit(1);
    }
}
