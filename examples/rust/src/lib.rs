//! tolk from Rust through its C ABI (`capi/tolk.h`), with no external crates.
//!
//! [`sys`] holds the raw `extern "C"` declarations; the rest is a safe wrapper:
//! [`Engine`], [`Options`], [`TolkResult`] / [`ResultRef`], [`BatchResult`], [`Request`] and
//! [`TranslateError`] (the status, its `tolk_status_name` and the message). Every owning type
//! frees its handle in `Drop`. Inputs go through `CString` (an interior NUL is refused before the
//! call), outputs are read as `CStr` borrowed from the result that owns them.
//!
//! ```no_run
//! let engine = tolk::Engine::new(None)?;
//! engine.load_model("dev", "tests/data/dev", None)?;
//! let r = engine.translate("dev", "Hello world.", "eng_Latn", "fra_Latn", None)?;
//! println!("{}", r.text());
//! # Ok::<(), tolk::TranslateError>(())
//! ```

use std::ffi::{c_void, CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::time::Duration;

/// The raw C ABI, declared by hand from `capi/tolk.h` (only what this crate uses).
#[allow(non_camel_case_types)]
pub mod sys {
    use std::ffi::c_void;
    use std::marker::{PhantomData, PhantomPinned};
    use std::os::raw::{c_char, c_int};

    /// The header's `TOLK_ABI_VERSION` these declarations were written against.
    pub const TOLK_ABI_VERSION: c_int = 1;

    // Opaque handles (the Rustonomicon's pattern: unconstructible, !Send, !Sync, !Unpin).
    macro_rules! opaque {
        ($($name:ident),*) => {$(
            #[repr(C)]
            pub struct $name {
                _data: [u8; 0],
                _marker: PhantomData<(*mut u8, PhantomPinned)>,
            }
        )*};
    }
    opaque!(tolk_engine, tolk_options, tolk_result, tolk_batch_result, tolk_request);

    /// `tolk_status` is a C enum. It is received as a plain int: a Rust `enum` would be undefined
    /// behaviour for any value it does not list (a newer library may add codes).
    pub type tolk_status = c_int;

    pub type tolk_callback = Option<unsafe extern "C" fn(user_data: *mut c_void, result: *mut tolk_result)>;

    #[link(name = "tolk_c")]
    extern "C" {
        pub fn tolk_version() -> *const c_char;
        pub fn tolk_abi_version() -> c_int;
        pub fn tolk_status_name(status: tolk_status) -> *const c_char;
        pub fn tolk_last_error_message() -> *const c_char;

        pub fn tolk_options_create() -> *mut tolk_options;
        pub fn tolk_options_free(options: *mut tolk_options);
        pub fn tolk_options_set_int(o: *mut tolk_options, key: *const c_char, value: i64) -> tolk_status;
        pub fn tolk_options_set_float(o: *mut tolk_options, key: *const c_char, value: f64) -> tolk_status;
        pub fn tolk_options_set_string(o: *mut tolk_options, key: *const c_char, value: *const c_char) -> tolk_status;

        pub fn tolk_engine_create(engine_options: *const tolk_options, out: *mut *mut tolk_engine) -> tolk_status;
        pub fn tolk_engine_free(engine: *mut tolk_engine);
        pub fn tolk_engine_load_model(e: *mut tolk_engine, name: *const c_char, path: *const c_char,
                                      model_options: *const tolk_options) -> tolk_status;
        pub fn tolk_engine_unload_model(e: *mut tolk_engine, name: *const c_char) -> tolk_status;

        pub fn tolk_translate_sync(e: *mut tolk_engine, model: *const c_char, text: *const c_char,
                                   src_lang: *const c_char, tgt_lang: *const c_char,
                                   options: *const tolk_options, out: *mut *mut tolk_result) -> tolk_status;
        pub fn tolk_translate_batch(e: *mut tolk_engine, model: *const c_char, texts: *const *const c_char,
                                    count: usize, src_lang: *const c_char, tgt_lang: *const c_char,
                                    options: *const tolk_options, out: *mut *mut tolk_batch_result) -> tolk_status;
        pub fn tolk_translate_async(e: *mut tolk_engine, model: *const c_char, text: *const c_char,
                                    src_lang: *const c_char, tgt_lang: *const c_char,
                                    options: *const tolk_options, callback: tolk_callback,
                                    user_data: *mut c_void, out: *mut *mut tolk_request) -> tolk_status;
        pub fn tolk_request_wait(r: *mut tolk_request, timeout_ms: i64, out: *mut *mut tolk_result) -> tolk_status;
        pub fn tolk_request_cancel(r: *mut tolk_request) -> tolk_status;
        pub fn tolk_request_free(r: *mut tolk_request);

        pub fn tolk_result_status(r: *const tolk_result) -> tolk_status;
        pub fn tolk_result_text(r: *const tolk_result) -> *const c_char;
        pub fn tolk_result_error_message(r: *const tolk_result) -> *const c_char;
        pub fn tolk_result_score(r: *const tolk_result) -> f64;
        pub fn tolk_result_token_ids(r: *const tolk_result, count: *mut usize) -> *const i64;
        pub fn tolk_result_num_hypotheses(r: *const tolk_result) -> usize;
        pub fn tolk_result_hypothesis_text(r: *const tolk_result, i: usize) -> *const c_char;
        pub fn tolk_result_hypothesis_score(r: *const tolk_result, i: usize) -> f64;
        pub fn tolk_result_total_ms(r: *const tolk_result) -> f64;
        pub fn tolk_result_free(r: *mut tolk_result);

        pub fn tolk_batch_result_size(b: *const tolk_batch_result) -> usize;
        pub fn tolk_batch_result_get(b: *const tolk_batch_result, i: usize) -> *const tolk_result;
        pub fn tolk_batch_result_free(b: *mut tolk_batch_result);
    }
}

// ------------------------------------------------------------------------------------------------
// Status and errors
// ------------------------------------------------------------------------------------------------

/// A `tolk_status` value. Any int is representable (unknown codes name themselves
/// `TOLK_UNKNOWN_STATUS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Status(pub i32);

impl Status {
    pub const OK: Status = Status(0);
    pub const INVALID_ARGUMENT: Status = Status(1);
    pub const INVALID_UTF8: Status = Status(2);
    pub const UNKNOWN_MODEL: Status = Status(3);
    pub const UNKNOWN_LANGUAGE: Status = Status(4);
    pub const ALREADY_EXISTS: Status = Status(5);
    pub const FILE_NOT_FOUND: Status = Status(6);
    pub const INVALID_MODEL: Status = Status(7);
    pub const UNSUPPORTED_MODEL: Status = Status(8);
    pub const INPUT_TOO_LONG: Status = Status(9);
    pub const CANCELLED: Status = Status(10);
    pub const TIMEOUT: Status = Status(11);
    pub const QUEUE_FULL: Status = Status(12);
    pub const SHUTDOWN: Status = Status(13);
    pub const INTERNAL: Status = Status(14);
    pub const OUT_OF_MEMORY: Status = Status(15);
    pub const NOT_READY: Status = Status(16);
    pub const ALREADY_TAKEN: Status = Status(17);

    /// `tolk_status_name`, e.g. "TOLK_ERR_UNKNOWN_MODEL".
    pub fn name(self) -> &'static str {
        // Static storage, ASCII.
        unsafe { static_str(sys::tolk_status_name(self.0)) }
    }

    pub fn is_ok(self) -> bool {
        self == Status::OK
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed tolk call or a failed result: the status, its name, and tolk's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranslateError {
    pub status: Status,
    pub name: String,
    pub message: String,
}

impl TranslateError {
    fn new(status: Status, message: String) -> Self {
        TranslateError { status, name: status.name().to_owned(), message }
    }

    /// The calling thread's last error. Must be called right after the failing call, on its
    /// thread, before any other tolk_ call (the message is per thread and borrowed).
    fn last(status: sys::tolk_status) -> Self {
        let message = unsafe { copy_str(sys::tolk_last_error_message()) };
        TranslateError::new(Status(status), message)
    }
}

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for TranslateError {}

pub type Result<T> = std::result::Result<T, TranslateError>;

fn check(status: sys::tolk_status) -> Result<()> {
    if status == 0 {
        Ok(())
    } else {
        Err(TranslateError::last(status))
    }
}

/// A C string for an argument. Bytes are passed as they are (tolk checks UTF-8 itself, so `&[u8]`
/// can carry invalid UTF-8 to test that); an interior NUL cannot be expressed in a C string and
/// is refused here as TOLK_ERR_INVALID_ARGUMENT.
fn cstring(value: impl AsRef<[u8]>, what: &str) -> Result<CString> {
    CString::new(value.as_ref()).map_err(|e| {
        TranslateError::new(
            Status::INVALID_ARGUMENT,
            format!("{what} contains a NUL byte at offset {}", e.nul_position()),
        )
    })
}

/// Borrows a NUL-terminated string that tolk promises is UTF-8 (lossless for valid input).
unsafe fn borrowed_str<'a>(p: *const c_char) -> &'a str {
    if p.is_null() {
        return "";
    }
    match CStr::from_ptr(p).to_str() {
        Ok(s) => s,
        Err(e) => {
            // Never expected: tolk's outputs are UTF-8. Return the valid prefix rather than panic.
            let bytes = CStr::from_ptr(p).to_bytes();
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or("")
        }
    }
}

unsafe fn static_str(p: *const c_char) -> &'static str {
    borrowed_str(p)
}

unsafe fn copy_str(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// tolk's library version, e.g. "0.1.0".
pub fn version() -> &'static str {
    unsafe { static_str(sys::tolk_version()) }
}

/// Whether the loaded library has the ABI these declarations were written for.
pub fn abi_matches() -> bool {
    unsafe { sys::tolk_abi_version() == sys::TOLK_ABI_VERSION }
}

// ------------------------------------------------------------------------------------------------
// Options
// ------------------------------------------------------------------------------------------------

/// A `tolk_options` object: typed key/value settings (keys in docs/c-api.md). Setters refuse
/// unknown keys, wrong types and obviously bad values at once.
pub struct Options {
    ptr: NonNull<sys::tolk_options>,
}

// tolk only reads options during calls; mutation needs &mut, so sharing &Options is safe.
unsafe impl Send for Options {}
unsafe impl Sync for Options {}

impl Options {
    pub fn new() -> Self {
        let ptr = unsafe { sys::tolk_options_create() };
        Options { ptr: NonNull::new(ptr).expect("tolk_options_create: out of memory") }
    }

    pub fn set_int(&mut self, key: &str, value: i64) -> Result<&mut Self> {
        let k = cstring(key, "option key")?;
        check(unsafe { sys::tolk_options_set_int(self.ptr.as_ptr(), k.as_ptr(), value) })?;
        Ok(self)
    }

    pub fn set_float(&mut self, key: &str, value: f64) -> Result<&mut Self> {
        let k = cstring(key, "option key")?;
        check(unsafe { sys::tolk_options_set_float(self.ptr.as_ptr(), k.as_ptr(), value) })?;
        Ok(self)
    }

    pub fn set_string(&mut self, key: &str, value: &str) -> Result<&mut Self> {
        let k = cstring(key, "option key")?;
        let v = cstring(value, "option value")?;
        check(unsafe { sys::tolk_options_set_string(self.ptr.as_ptr(), k.as_ptr(), v.as_ptr()) })?;
        Ok(self)
    }

    /// Builder forms: `Options::new().int("beam_size", 4)?.float("length_penalty", 1.0)?`.
    pub fn int(mut self, key: &str, value: i64) -> Result<Self> {
        self.set_int(key, value)?;
        Ok(self)
    }
    pub fn float(mut self, key: &str, value: f64) -> Result<Self> {
        self.set_float(key, value)?;
        Ok(self)
    }
    pub fn string(mut self, key: &str, value: &str) -> Result<Self> {
        self.set_string(key, value)?;
        Ok(self)
    }

    fn raw(&self) -> *const sys::tolk_options {
        self.ptr.as_ptr()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options::new()
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        unsafe { sys::tolk_options_free(self.ptr.as_ptr()) }
    }
}

fn opt_ptr(o: Option<&Options>) -> *const sys::tolk_options {
    o.map_or(ptr::null(), Options::raw)
}

// ------------------------------------------------------------------------------------------------
// Results
// ------------------------------------------------------------------------------------------------

/// A borrowed view of a `tolk_result` (from a [`TolkResult`] or a [`BatchResult`]); strings and
/// arrays borrow from the owner.
#[derive(Clone, Copy)]
pub struct ResultRef<'a> {
    ptr: NonNull<sys::tolk_result>,
    _owner: PhantomData<&'a sys::tolk_result>,
}

unsafe impl Send for ResultRef<'_> {}
unsafe impl Sync for ResultRef<'_> {}

impl<'a> ResultRef<'a> {
    fn raw(&self) -> *const sys::tolk_result {
        self.ptr.as_ptr()
    }
    pub fn status(&self) -> Status {
        Status(unsafe { sys::tolk_result_status(self.raw()) })
    }
    /// The best translation ("" for a failed result).
    pub fn text(&self) -> &'a str {
        unsafe { borrowed_str(sys::tolk_result_text(self.raw())) }
    }
    /// The failure's message ("" when the status is OK).
    pub fn error_message(&self) -> &'a str {
        unsafe { borrowed_str(sys::tolk_result_error_message(self.raw())) }
    }
    pub fn score(&self) -> f64 {
        unsafe { sys::tolk_result_score(self.raw()) }
    }
    pub fn token_ids(&self) -> &'a [i64] {
        let mut n = 0usize;
        let p = unsafe { sys::tolk_result_token_ids(self.raw(), &mut n) };
        if p.is_null() || n == 0 {
            &[]
        } else {
            unsafe { std::slice::from_raw_parts(p, n) }
        }
    }
    pub fn num_hypotheses(&self) -> usize {
        unsafe { sys::tolk_result_num_hypotheses(self.raw()) }
    }
    /// Hypothesis `i` (text, score), or None out of range.
    pub fn hypothesis(&self, i: usize) -> Option<(&'a str, f64)> {
        if i >= self.num_hypotheses() {
            return None;
        }
        unsafe {
            Some((
                borrowed_str(sys::tolk_result_hypothesis_text(self.raw(), i)),
                sys::tolk_result_hypothesis_score(self.raw(), i),
            ))
        }
    }
    pub fn total_ms(&self) -> f64 {
        unsafe { sys::tolk_result_total_ms(self.raw()) }
    }
    /// Ok(self) for a successful result, else its status and message as an error.
    pub fn check(self) -> Result<Self> {
        let s = self.status();
        if s.is_ok() {
            Ok(self)
        } else {
            Err(TranslateError::new(s, self.error_message().to_owned()))
        }
    }
}

/// An owned `tolk_result` (from translate, wait or a callback); `tolk_result_free` on drop.
pub struct TolkResult {
    ptr: NonNull<sys::tolk_result>,
}

// Results are immutable and readable from any thread (tolk.h).
unsafe impl Send for TolkResult {}
unsafe impl Sync for TolkResult {}

impl TolkResult {
    /// Takes ownership of a result pointer (NULL → None).
    unsafe fn from_raw(p: *mut sys::tolk_result) -> Option<Self> {
        NonNull::new(p).map(|ptr| TolkResult { ptr })
    }
    pub fn view(&self) -> ResultRef<'_> {
        ResultRef { ptr: self.ptr, _owner: PhantomData }
    }
    pub fn status(&self) -> Status {
        self.view().status()
    }
    pub fn text(&self) -> &str {
        self.view().text()
    }
    pub fn error_message(&self) -> &str {
        self.view().error_message()
    }
    pub fn score(&self) -> f64 {
        self.view().score()
    }
    pub fn token_ids(&self) -> &[i64] {
        self.view().token_ids()
    }
    pub fn num_hypotheses(&self) -> usize {
        self.view().num_hypotheses()
    }
    pub fn hypothesis(&self, i: usize) -> Option<(&str, f64)> {
        self.view().hypothesis(i)
    }
    pub fn total_ms(&self) -> f64 {
        self.view().total_ms()
    }
    /// Ok(self) for a successful result, else its status and message as an error.
    pub fn into_result(self) -> Result<Self> {
        self.view().check()?;
        Ok(self)
    }
}

impl Drop for TolkResult {
    fn drop(&mut self) {
        unsafe { sys::tolk_result_free(self.ptr.as_ptr()) }
    }
}

impl fmt::Debug for TolkResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.view().fmt(f)
    }
}

impl fmt::Debug for ResultRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TolkResult")
            .field("status", &self.status().name())
            .field("text", &self.text())
            .field("error_message", &self.error_message())
            .finish()
    }
}

/// An owned `tolk_batch_result`; its items are borrowed ([`ResultRef`]), freed with it.
pub struct BatchResult {
    ptr: NonNull<sys::tolk_batch_result>,
}

unsafe impl Send for BatchResult {}
unsafe impl Sync for BatchResult {}

impl BatchResult {
    pub fn len(&self) -> usize {
        unsafe { sys::tolk_batch_result_size(self.ptr.as_ptr()) }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, i: usize) -> Option<ResultRef<'_>> {
        let p = unsafe { sys::tolk_batch_result_get(self.ptr.as_ptr(), i) };
        NonNull::new(p as *mut sys::tolk_result).map(|ptr| ResultRef { ptr, _owner: PhantomData })
    }
    pub fn iter(&self) -> impl Iterator<Item = ResultRef<'_>> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }
}

impl Drop for BatchResult {
    fn drop(&mut self) {
        unsafe { sys::tolk_batch_result_free(self.ptr.as_ptr()) }
    }
}

// ------------------------------------------------------------------------------------------------
// Async requests
// ------------------------------------------------------------------------------------------------

/// The handle of an async translation; `tolk_request_free` on drop (which does not stop it).
/// `wait` and `cancel` take `&self`: share it (e.g. in an `Arc`) to cancel from another thread;
/// Rust's ownership guarantees no wait is in progress when the handle is freed.
pub struct Request {
    ptr: NonNull<sys::tolk_request>,
}

unsafe impl Send for Request {}
unsafe impl Sync for Request {}

impl Request {
    /// Waits for the end (None: forever; Some(ZERO) polls).
    /// - Ok(Some(result)): the request succeeded and this call got its result.
    /// - Ok(None): it succeeded and a callback got the result.
    /// - Err: its failure (TOLK_ERR_CANCELLED, TIMEOUT, SHUTDOWN, UNKNOWN_LANGUAGE, …), or
    ///   TOLK_ERR_NOT_READY (still running after `timeout`), or TOLK_ERR_ALREADY_TAKEN.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<Option<TolkResult>> {
        let ms = match timeout {
            None => -1,
            Some(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        };
        let mut out: *mut sys::tolk_result = ptr::null_mut();
        let s = unsafe { sys::tolk_request_wait(self.ptr.as_ptr(), ms, &mut out) };
        match unsafe { TolkResult::from_raw(out) } {
            Some(r) => r.into_result().map(Some), // the result carries its own status + message
            None => check(s).map(|()| None),
        }
    }

    /// Asks the request to stop: it ends with TOLK_ERR_CANCELLED unless it ends otherwise first.
    pub fn cancel(&self) -> Result<()> {
        check(unsafe { sys::tolk_request_cancel(self.ptr.as_ptr()) })
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        unsafe { sys::tolk_request_free(self.ptr.as_ptr()) }
    }
}

type Completion = Box<dyn FnOnce(Result<TolkResult>) + Send + 'static>;

/// The one `tolk_callback` of this crate: user_data is a leaked `Box<Completion>`.
unsafe extern "C" fn trampoline(user_data: *mut c_void, result: *mut sys::tolk_result) {
    let done: Box<Completion> = Box::from_raw(user_data as *mut Completion);
    // The callee owns the result: TolkResult frees it when the closure is done with it.
    let outcome = match TolkResult::from_raw(result) {
        Some(r) => r.into_result(),
        None => Err(TranslateError::new(Status::INTERNAL, "callback without a result".into())),
    };
    // A panic must not unwind into C (it would abort the process): catch it and report it.
    if catch_unwind(AssertUnwindSafe(move || done(outcome))).is_err() {
        eprintln!("tolk: a completion callback panicked");
    }
}

// ------------------------------------------------------------------------------------------------
// Engine
// ------------------------------------------------------------------------------------------------

/// A `tolk_engine`: loaded models plus its threads. Thread-safe: share it with `Arc`.
/// Dropping it frees it (`tolk_engine_free`), which ends every request and waits for every
/// callback; do not drop the last reference from inside a completion callback.
pub struct Engine {
    ptr: NonNull<sys::tolk_engine>,
}

unsafe impl Send for Engine {}
unsafe impl Sync for Engine {}

impl Engine {
    /// A new engine; `options`: engine keys (async_threads, intra_threads, log_level, …).
    pub fn new(options: Option<&Options>) -> Result<Self> {
        let mut out = ptr::null_mut();
        check(unsafe { sys::tolk_engine_create(opt_ptr(options), &mut out) })?;
        Ok(Engine { ptr: NonNull::new(out).expect("tolk_engine_create: OK with NULL") })
    }

    fn raw(&self) -> *mut sys::tolk_engine {
        self.ptr.as_ptr()
    }

    pub fn load_model(&self, name: &str, path: impl AsRef<std::path::Path>,
                      options: Option<&Options>) -> Result<()> {
        use std::os::unix::ffi::OsStrExt;
        let n = cstring(name, "model name")?;
        let p = cstring(path.as_ref().as_os_str().as_bytes(), "model path")?;
        check(unsafe { sys::tolk_engine_load_model(self.raw(), n.as_ptr(), p.as_ptr(), opt_ptr(options)) })
    }

    pub fn unload_model(&self, name: &str) -> Result<()> {
        let n = cstring(name, "model name")?;
        check(unsafe { sys::tolk_engine_unload_model(self.raw(), n.as_ptr()) })
    }

    /// Translates one text on the calling thread. Arguments are bytes so that invalid UTF-8 can
    /// reach tolk (and be refused by it, TOLK_ERR_INVALID_UTF8); `&str` works as is.
    pub fn translate(&self, model: &str, text: impl AsRef<[u8]>, src_lang: impl AsRef<[u8]>,
                     tgt_lang: impl AsRef<[u8]>, options: Option<&Options>) -> Result<TolkResult> {
        let (m, t) = (cstring(model, "model")?, cstring(text, "text")?);
        let (s, g) = (cstring(src_lang, "src_lang")?, cstring(tgt_lang, "tgt_lang")?);
        let mut out = ptr::null_mut();
        check(unsafe {
            sys::tolk_translate_sync(self.raw(), m.as_ptr(), t.as_ptr(), s.as_ptr(), g.as_ptr(),
                                     opt_ptr(options), &mut out)
        })?;
        unsafe { TolkResult::from_raw(out) }
            .ok_or_else(|| TranslateError::new(Status::INTERNAL, "OK without a result".into()))
    }

    /// Translates `texts` as one batch. Errors of the whole call are Err; per-item failures
    /// (unknown language, too long) are in each item's status.
    pub fn translate_batch<T: AsRef<[u8]>>(&self, model: &str, texts: &[T], src_lang: &str,
                                           tgt_lang: &str, options: Option<&Options>) -> Result<BatchResult> {
        let owned = texts
            .iter()
            .enumerate()
            .map(|(i, t)| cstring(t, &format!("texts[{i}]")))
            .collect::<Result<Vec<CString>>>()?;
        let ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        let (m, s, g) = (cstring(model, "model")?, cstring(src_lang, "src_lang")?, cstring(tgt_lang, "tgt_lang")?);
        let mut out = ptr::null_mut();
        check(unsafe {
            sys::tolk_translate_batch(self.raw(), m.as_ptr(), ptrs.as_ptr(), ptrs.len(), s.as_ptr(),
                                      g.as_ptr(), opt_ptr(options), &mut out)
        })?;
        let ptr = NonNull::new(out)
            .ok_or_else(|| TranslateError::new(Status::INTERNAL, "OK without a batch".into()))?;
        Ok(BatchResult { ptr })
    }

    /// Queues a translation; wait for it with [`Request::wait`].
    pub fn translate_async(&self, model: &str, text: impl AsRef<[u8]>, src_lang: &str,
                           tgt_lang: &str, options: Option<&Options>) -> Result<Request> {
        self.submit(model, text.as_ref(), src_lang, tgt_lang, options, None)
    }

    /// Queues a translation whose outcome goes to `done`, called once on an engine thread (or on
    /// the thread dropping the engine, for a request still queued then). `done` must return
    /// quickly. The returned handle can cancel it; `wait` on it returns Ok(None) or the error.
    pub fn translate_async_with<F>(&self, model: &str, text: impl AsRef<[u8]>, src_lang: &str,
                                   tgt_lang: &str, options: Option<&Options>, done: F) -> Result<Request>
    where
        F: FnOnce(Result<TolkResult>) + Send + 'static,
    {
        self.submit(model, text.as_ref(), src_lang, tgt_lang, options, Some(Box::new(done)))
    }

    fn submit(&self, model: &str, text: &[u8], src_lang: &str, tgt_lang: &str,
              options: Option<&Options>, done: Option<Completion>) -> Result<Request> {
        let (m, t) = (cstring(model, "model")?, cstring(text, "text")?);
        let (s, g) = (cstring(src_lang, "src_lang")?, cstring(tgt_lang, "tgt_lang")?);
        let (callback, user_data): (sys::tolk_callback, *mut c_void) = match done {
            Some(f) => (Some(trampoline), Box::into_raw(Box::new(f)) as *mut c_void),
            None => (None, ptr::null_mut()),
        };
        let mut out = ptr::null_mut();
        let status = unsafe {
            sys::tolk_translate_async(self.raw(), m.as_ptr(), t.as_ptr(), s.as_ptr(), g.as_ptr(),
                                      opt_ptr(options), callback, user_data, &mut out)
        };
        if status != 0 {
            let err = TranslateError::last(status);
            if !user_data.is_null() {
                // A refused call runs no callback: take the closure back.
                drop(unsafe { Box::from_raw(user_data as *mut Completion) });
            }
            return Err(err);
        }
        let ptr = NonNull::new(out)
            .ok_or_else(|| TranslateError::new(Status::INTERNAL, "OK without a request".into()))?;
        Ok(Request { ptr })
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        unsafe { sys::tolk_engine_free(self.ptr.as_ptr()) }
    }
}

macro_rules! debug_handle {
    ($($t:ident),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({:p})"), self.ptr.as_ptr())
            }
        }
    )*};
}
debug_handle!(Engine, Options, Request, BatchResult);
