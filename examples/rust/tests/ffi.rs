//! The safe wrapper against libtolk_c.so and the dev checkpoint ($TOLK_TEST_MODEL, default
//! ../../tests/data/dev): known outputs, batches, async (wait, callback, cancel, drop with
//! requests in flight) and named errors. Every wait has a timeout: a broken path fails, never
//! hangs.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use tolk::{Engine, Options, Request, Status, TranslateError};

const T: Option<Duration> = Some(Duration::from_secs(60));
const LONG_TEXT: &str = "Hello world. Open the file and save it before you close the window, \
                         then print the document. Hello world. Open the file and save it before \
                         you close the window.";

fn model_dir() -> String {
    std::env::var("TOLK_TEST_MODEL")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/dev").to_owned())
}

fn engine_with(options: Option<&Options>) -> Engine {
    let e = Engine::new(options).expect("engine");
    e.load_model("dev", model_dir(), None).expect("load dev");
    e
}

fn engine() -> Engine {
    engine_with(Some(&Options::new().string("log_level", "error").unwrap()))
}

fn greedy() -> Options {
    Options::new().int("max_new_tokens", 20).unwrap()
}

fn long() -> Options {
    Options::new().int("max_new_tokens", 200).unwrap()
}

/// Asserts a named error with a message; returns it.
fn expect_err<T: std::fmt::Debug>(r: Result<T, TranslateError>, name: &str) -> TranslateError {
    let e = r.expect_err(&format!("expected {name}"));
    assert_eq!(e.name, name, "{e}");
    assert_eq!(e.status.name(), name);
    assert!(!e.message.is_empty(), "{name} without a message");
    e
}

#[test]
fn version_and_status_names() {
    assert!(tolk::version().contains('.'));
    assert!(tolk::abi_matches());
    assert_eq!(Status::NOT_READY.name(), "TOLK_ERR_NOT_READY");
    assert_eq!(Status(9999).name(), "TOLK_UNKNOWN_STATUS");
}

#[test]
fn sync_known_output() {
    let e = engine();
    let r = e.translate("dev", "Hello world.", "eng_Latn", "fra_Latn", Some(&greedy())).unwrap();
    assert_eq!(r.status(), Status::OK);
    assert_eq!(r.text(), "Aduné.");
    assert_eq!(r.error_message(), "");
    assert_eq!(r.token_ids(), &[2, 307, 150, 187, 161, 160, 156, 170, 173, 2]);
    assert_eq!(r.num_hypotheses(), 1);
    assert_eq!(r.hypothesis(0).unwrap().0, "Aduné.");
    assert!(r.hypothesis(1).is_none());
    assert!(r.total_ms() >= 0.0);
    assert_eq!(e.translate("dev", "Hello world.", "eng_Latn", "fra_Latn", None).unwrap().text(), "Aduné.");

    let beam = Options::new().int("max_new_tokens", 20).unwrap().int("beam_size", 4).unwrap()
        .int("num_hypotheses", 4).unwrap().float("length_penalty", 1.0).unwrap();
    let r = e.translate("dev", "Hello world.", "eng_Latn", "fra_Latn", Some(&beam)).unwrap();
    assert_eq!(r.text(), "Lempossible d'étendition.");
    assert!((r.score() - -1.152292).abs() < 1e-4, "{}", r.score());
    assert_eq!(r.num_hypotheses(), 4);
    assert!(r.hypothesis(0).unwrap().1 >= r.hypothesis(3).unwrap().1);
    assert!(!e.translate("dev", "café 😀", "eng_Latn", "fra_Latn", Some(&greedy())).unwrap().text().is_empty());
}

#[test]
fn batch_items_and_statuses() {
    let e = engine();
    let b = e.translate_batch("dev", &["Hello world.", "", "Open the file"], "eng_Latn", "fra_Latn", Some(&greedy())).unwrap();
    assert_eq!(b.len(), 3);
    assert!(b.iter().all(|r| r.status() == Status::OK));
    assert_eq!(b.get(0).unwrap().text(), "Aduné.");
    assert!(b.get(3).is_none());
    let empty: [&str; 0] = [];
    assert!(e.translate_batch("dev", &empty, "eng_Latn", "fra_Latn", None).unwrap().is_empty());

    // A bad language: the call succeeds, each item has its own error.
    let b = e.translate_batch("dev", &["Hello world.", "Open the file"], "eng_Latn", "xxx_Latn", Some(&greedy())).unwrap();
    for item in b.iter() {
        assert_eq!(item.status(), Status::UNKNOWN_LANGUAGE);
        assert!(item.error_message().contains("xxx_Latn"), "{}", item.error_message());
        assert_eq!(item.text(), "");
        expect_err(item.check(), "TOLK_ERR_UNKNOWN_LANGUAGE");
    }

    // Mixed: a model refusing inputs over 8 bytes fails only the long item.
    e.load_model("small", model_dir(), Some(&Options::new().int("max_input_bytes", 8).unwrap())).unwrap();
    let b = e.translate_batch("small", &["Hello world.", "", "Hi"], "eng_Latn", "fra_Latn", Some(&greedy())).unwrap();
    let names: Vec<_> = b.iter().map(|r| r.status().name()).collect();
    assert_eq!(names, ["TOLK_ERR_INPUT_TOO_LONG", "TOLK_OK", "TOLK_OK"]);

    // Whole-call failures.
    let bad: [&[u8]; 2] = [b"Hello world.", b"caf\xc3"];
    expect_err(e.translate_batch("dev", &bad, "eng_Latn", "fra_Latn", None), "TOLK_ERR_INVALID_UTF8");
    expect_err(e.translate_batch("nope", &["Hello"], "eng_Latn", "fra_Latn", None), "TOLK_ERR_UNKNOWN_MODEL");
}

#[test]
fn async_wait() {
    let e = engine();
    let req = e.translate_async("dev", "Hello world.", "eng_Latn", "fra_Latn", Some(&greedy())).unwrap();
    let r = match req.wait(Some(Duration::ZERO)) {
        Ok(Some(r)) => r, // already done
        Err(err) if err.status == Status::NOT_READY => req.wait(T).unwrap().expect("a result"),
        other => panic!("unexpected poll outcome {other:?}"),
    };
    assert_eq!(r.text(), "Aduné.");
    expect_err(req.wait(T), "TOLK_ERR_ALREADY_TAKEN");
    req.cancel().unwrap(); // after the end: a no-op

    // Several at once equal the sync translations.
    let texts = ["Hello world.", "Open the file", "Save the document."];
    let reqs: Vec<Request> = texts.iter()
        .map(|t| e.translate_async("dev", t, "eng_Latn", "fra_Latn", Some(&greedy())).unwrap())
        .collect();
    for (t, req) in texts.iter().zip(&reqs) {
        let sync = e.translate("dev", t, "eng_Latn", "fra_Latn", Some(&greedy())).unwrap();
        assert_eq!(req.wait(T).unwrap().unwrap().text(), sync.text());
    }

    // An input error ends the request with its status.
    let req = e.translate_async("dev", "Hello", "eng_Latn", "xxx_Latn", None).unwrap();
    expect_err(req.wait(T), "TOLK_ERR_UNKNOWN_LANGUAGE");
    // Errors of the call itself come back at once.
    expect_err(e.translate_async("nope", "Hello", "eng_Latn", "fra_Latn", None), "TOLK_ERR_UNKNOWN_MODEL");
    expect_err(e.translate_async("dev", b"\xff", "eng_Latn", "fra_Latn", None), "TOLK_ERR_INVALID_UTF8");
}

#[test]
fn async_callbacks() {
    let e = engine();
    let (tx, rx) = mpsc::channel();
    let mut reqs = Vec::new();
    for i in 0..5 {
        let tx = tx.clone();
        reqs.push(e.translate_async_with("dev", "Hello world.", "eng_Latn", "fra_Latn", Some(&greedy()), move |r| {
            tx.send((i, r.map(|r| r.text().to_owned()))).unwrap();
        }).unwrap());
    }
    let mut seen = [false; 5];
    for _ in 0..5 {
        let (i, text) = rx.recv_timeout(Duration::from_secs(60)).expect("callback");
        assert_eq!(text.unwrap(), "Aduné.");
        assert!(!seen[i], "callback {i} fired twice");
        seen[i] = true;
    }
    for r in &reqs {
        assert!(r.wait(T).unwrap().is_none()); // the callback had the result
    }
    // A refused call runs no callback and drops the closure (the sender goes with it).
    let (tx2, rx2) = mpsc::channel::<()>();
    expect_err(e.translate_async_with("nope", "x", "eng_Latn", "fra_Latn", None, move |_| { let _ = tx2.send(()); }),
               "TOLK_ERR_UNKNOWN_MODEL");
    assert!(matches!(rx2.recv_timeout(Duration::from_secs(5)), Err(mpsc::RecvTimeoutError::Disconnected)));
    // An error outcome reaches the callback as Err.
    let (tx3, rx3) = mpsc::channel();
    let _req = e.translate_async_with("dev", "Hello", "eng_Latn", "xxx_Latn", None, move |r| {
        tx3.send(r.map(|_| ())).unwrap();
    }).unwrap();
    expect_err(rx3.recv_timeout(Duration::from_secs(60)).unwrap(), "TOLK_ERR_UNKNOWN_LANGUAGE");
}

#[test]
fn cancel() {
    // One async thread: later requests are still queued when cancelled.
    let e = engine_with(Some(&Options::new().int("async_threads", 1).unwrap().string("log_level", "error").unwrap()));
    let reqs: Vec<Request> = (0..6)
        .map(|_| e.translate_async("dev", LONG_TEXT, "eng_Latn", "fra_Latn", Some(&long())).unwrap())
        .collect();
    for r in &reqs {
        r.cancel().unwrap();
    }
    let mut cancelled = 0;
    for r in &reqs {
        match r.wait(T) {
            Ok(Some(res)) => assert_eq!(res.status(), Status::OK),
            Err(err) => {
                assert_eq!(err.name, "TOLK_ERR_CANCELLED", "{err}");
                assert!(!err.message.is_empty());
                cancelled += 1;
            }
            Ok(None) => panic!("no callback was given"),
        }
        r.cancel().unwrap(); // after the end: no-op
    }
    assert!(cancelled >= 1);

    // From another thread, through an Arc; with a callback too.
    let fired = Arc::new(AtomicUsize::new(0));
    let f = fired.clone();
    let first = e.translate_async("dev", LONG_TEXT, "eng_Latn", "fra_Latn", Some(&long())).unwrap();
    let second = Arc::new(e.translate_async_with("dev", LONG_TEXT, "eng_Latn", "fra_Latn", Some(&long()), move |r| {
        assert!(matches!(&r, Ok(_)) || r.as_ref().unwrap_err().status == Status::CANCELLED);
        f.fetch_add(1, Ordering::SeqCst);
    }).unwrap());
    let s2 = second.clone();
    std::thread::spawn(move || s2.cancel().unwrap()).join().unwrap();
    let outcome = second.wait(T);
    assert!(matches!(outcome, Ok(None)) || outcome.as_ref().unwrap_err().status == Status::CANCELLED, "{outcome:?}");
    assert_eq!(fired.load(Ordering::SeqCst), 1);
    assert!(first.wait(T).unwrap().is_some());
}

#[test]
fn drop_engine_with_requests_in_flight() {
    let e = engine_with(Some(&Options::new().int("async_threads", 1).unwrap().string("log_level", "error").unwrap()));
    let fired = Arc::new(AtomicUsize::new(0));
    let mut reqs = Vec::new();
    for _ in 0..4 {
        reqs.push(e.translate_async("dev", LONG_TEXT, "eng_Latn", "fra_Latn", Some(&long())).unwrap());
        let f = fired.clone();
        reqs.push(e.translate_async_with("dev", LONG_TEXT, "eng_Latn", "fra_Latn", Some(&long()), move |_| {
            f.fetch_add(1, Ordering::SeqCst);
        }).unwrap());
    }
    drop(e); // every request ends (queued ones: TOLK_ERR_SHUTDOWN); every callback has returned
    assert_eq!(fired.load(Ordering::SeqCst), 4);
    for r in &reqs {
        match r.wait(Some(Duration::ZERO)) {
            Ok(_) => {}
            Err(err) => assert_eq!(err.name, "TOLK_ERR_SHUTDOWN", "{err}"),
        }
    }
}

#[test]
fn errors_are_named() {
    let e = engine();
    for bad in [&b"\xff"[..], b"caf\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"a\x80"] {
        let err = expect_err(e.translate("dev", bad, "eng_Latn", "fra_Latn", None), "TOLK_ERR_INVALID_UTF8");
        assert_eq!(err.status, Status::INVALID_UTF8);
        expect_err(e.translate("dev", "Hello", bad, "fra_Latn", None), "TOLK_ERR_INVALID_UTF8");
    }
    // An interior NUL never reaches C.
    let err = expect_err(e.translate("dev", "Hello\0world", "eng_Latn", "fra_Latn", None), "TOLK_ERR_INVALID_ARGUMENT");
    assert!(err.message.contains("NUL"));

    let mut o = Options::new();
    let err = expect_err(o.set_int("beam_sizes", 4).map(|_| ()), "TOLK_ERR_INVALID_ARGUMENT");
    assert!(err.message.contains("beam_sizes"), "{}", err.message);
    expect_err(o.set_float("beam_size", 4.0).map(|_| ()), "TOLK_ERR_INVALID_ARGUMENT"); // wrong type
    expect_err(o.set_int("beam_size", 0).map(|_| ()), "TOLK_ERR_INVALID_ARGUMENT"); // range
    expect_err(o.set_string("priority", "urgent").map(|_| ()), "TOLK_ERR_INVALID_ARGUMENT");
    expect_err(o.set_float("temperature", f64::NAN).map(|_| ()), "TOLK_ERR_INVALID_ARGUMENT");
    let model_key = Options::new().string("mode", "exclusive").unwrap();
    let err = expect_err(e.translate("dev", "Hello", "eng_Latn", "fra_Latn", Some(&model_key)), "TOLK_ERR_INVALID_ARGUMENT");
    assert!(err.message.contains("'mode'"), "{}", err.message);
    let translation_key = Options::new().int("beam_size", 2).unwrap();
    expect_err(Engine::new(Some(&translation_key)), "TOLK_ERR_INVALID_ARGUMENT");

    expect_err(e.translate("nope", "Hello", "eng_Latn", "fra_Latn", None), "TOLK_ERR_UNKNOWN_MODEL");
    expect_err(e.translate("dev", "Hello", "eng_Latn", "xxx_Latn", None), "TOLK_ERR_UNKNOWN_LANGUAGE");
    expect_err(e.load_model("dev", model_dir(), None), "TOLK_ERR_ALREADY_EXISTS");
    expect_err(e.load_model("m", "/nonexistent/tolk/model", None), "TOLK_ERR_FILE_NOT_FOUND");
    e.unload_model("dev").unwrap();
    expect_err(e.unload_model("dev"), "TOLK_ERR_UNKNOWN_MODEL");
}

#[test]
fn one_engine_many_threads() {
    let e = Arc::new(engine());
    let handles: Vec<_> = (0..4).map(|_| {
        let e = e.clone();
        std::thread::spawn(move || {
            for _ in 0..3 {
                assert_eq!(e.translate("dev", "Hello world.", "eng_Latn", "fra_Latn", None).unwrap().text(), "Aduné.");
                // The last error is per thread: this thread's message is its own.
                let err = e.translate("none", "x", "eng_Latn", "fra_Latn", None).unwrap_err();
                assert!(err.message.contains("none"), "{}", err.message);
            }
        })
    }).collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn example_binary_runs() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tolk-translate"))
        .arg(model_dir())
        .output()
        .expect("run tolk-translate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("sync:   \"Hello world.\" -> \"Aduné.\""), "{stdout}");
    assert!(stdout.contains("async:  a -> \"Aduné.\""), "{stdout}");
    assert!(stdout.contains("TOLK_ERR_UNKNOWN_LANGUAGE"), "{stdout}");
}
