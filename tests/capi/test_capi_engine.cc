// test_capi_engine.cc — the C ABI around the engine: version, ABI version and status names,
// loading (duplicate names, bad model directories), one engine shared by many threads, stats as
// JSON and the log callback.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include "capi_test_support.h"
#include "tolk.h"

namespace fs = std::filesystem;

using namespace capi_test;

TEST_CASE("C ABI: version, ABI version and status names", "[capi]") {
  CHECK(std::string(tolk_version()).find('.') != std::string::npos);
  CHECK(tolk_abi_version() == TOLK_ABI_VERSION);
  std::set<std::string> names;
  for (int s = TOLK_OK; s <= TOLK_ERR_ALREADY_TAKEN; ++s) {
    const std::string n = tolk_status_name(static_cast<tolk_status>(s));
    CHECK((n.rfind("TOLK_", 0) == 0 && n != "TOLK_UNKNOWN_STATUS"));
    names.insert(n);
  }
  CHECK(names.size() == TOLK_ERR_ALREADY_TAKEN + 1);
  CHECK(std::string(tolk_status_name(TOLK_ERR_NOT_READY)) == "TOLK_ERR_NOT_READY");
  CHECK(std::string(tolk_status_name(static_cast<tolk_status>(9999))) == "TOLK_UNKNOWN_STATUS");
  CHECK(std::string(tolk_status_name(static_cast<tolk_status>(18))) == "TOLK_UNKNOWN_STATUS");
}

TEST_CASE("C ABI: loading refuses duplicate names and bad model directories", "[capi][load]") {
  Engine eng;
  CHECK(named(tolk_engine_load_model(eng.e, "dev", kDev, nullptr)) == "TOLK_ERR_ALREADY_EXISTS");
  CHECK(named(tolk_engine_load_model(eng.e, "m", "/nonexistent/tolk/model", nullptr)) == "TOLK_ERR_FILE_NOT_FOUND");
  const fs::path dir = fs::temp_directory_path() / ("tolk_capi_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& f : fs::directory_iterator(kDev)) fs::copy_file(f.path(), dir / f.path().filename());
  std::ofstream(dir / "config.json", std::ios::trunc) << "{\"model_type\": \"m2m_100\", \"d_model\": ";
  CHECK(named(tolk_engine_load_model(eng.e, "m", dir.c_str(), nullptr)) == "TOLK_ERR_INVALID_MODEL");
  fs::remove(dir / "config.json");
  CHECK(named(tolk_engine_load_model(eng.e, "m", dir.c_str(), nullptr)) == "TOLK_ERR_FILE_NOT_FOUND");
  fs::remove_all(dir);
  CHECK(named(tolk_engine_unload_model(eng.e, "m")) == "TOLK_ERR_UNKNOWN_MODEL");  // nothing half-loaded
}

TEST_CASE("C ABI: one engine, many threads", "[capi][threads]") {
  Engine eng;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        tolk_result* r = nullptr;
        if (tolk_translate_sync(eng.e, "dev", "Hello world.", "eng_Latn", "fra_Latn", nullptr, &r) == TOLK_OK &&
            std::string(tolk_result_text(r)) == "Aduné.")
          ok++;
        tolk_result_free(r);
        // Errors are per thread: this thread's message is its own.
        tolk_translate_sync(eng.e, "none", "x", "eng_Latn", "fra_Latn", nullptr, &r);
        if (std::string(tolk_last_error_message()).find("none") == std::string::npos) ok -= 100;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 12);
}

namespace {
struct LogLines {
  std::mutex mutex;
  std::vector<std::pair<tolk_log_level, std::string>> lines;
};
void collect_log(void* user_data, tolk_log_level level, const char* message) {
  auto* log = static_cast<LogLines*>(user_data);
  std::lock_guard<std::mutex> guard(log->mutex);
  log->lines.emplace_back(level, message);
}
}  // namespace

TEST_CASE("C ABI: stats as JSON, the log callback", "[capi][stats][log]") {
  LogLines log;
  REQUIRE(tolk_set_log_callback(collect_log, &log) == TOLK_OK);
  {
    Options debug;
    debug.s("log_level", "debug");
    Options exclusive;
    exclusive.s("mode", "exclusive");
    tolk_engine* e = nullptr;
    REQUIRE(tolk_engine_create(debug.p, &e) == TOLK_OK);
    REQUIRE(tolk_engine_load_model(e, "ex", kDev, exclusive.p) == TOLK_OK);
    CHECK(sync_text(e, "Hello world.", nullptr, nullptr, "ex") == "Aduné.");

    char* stats = tolk_engine_stats_json(e);
    REQUIRE(stats != nullptr);
    const std::string json = stats;
    tolk_string_free(stats);
    CHECK(json.front() == '{');
    CHECK(json.find("\"ex\"") != std::string::npos);
    CHECK(json.find("\"exclusive\"") != std::string::npos);
    tolk_engine_free(e);
  }
  REQUIRE(tolk_set_log_callback(nullptr, nullptr) == TOLK_OK);
  size_t seen = 0;
  {
    std::lock_guard<std::mutex> guard(log.mutex);
    seen = log.lines.size();
    REQUIRE(seen > 0);  // exclusive mode logs the lock at debug level
    bool debug_line = false;
    for (const auto& [level, text] : log.lines) {
      CHECK(!text.empty());
      CHECK(text.back() != '\n');
      debug_line = debug_line || level == TOLK_LOG_DEBUG;
    }
    CHECK(debug_line);
  }
  // Back on stderr: the callback is not called any more.
  {
    Options debug;
    debug.s("log_level", "debug");
    Engine eng(debug.p);
    CHECK(sync_text(eng.e, "Hello world.", nullptr) == "Aduné.");
  }
  {
    std::lock_guard<std::mutex> guard(log.mutex);
    CHECK(log.lines.size() == seen);
  }
  // Restore the default level for the rest of this process.
  Options warn;
  warn.s("log_level", "warn");
  tolk_engine* quiet = nullptr;
  REQUIRE(tolk_engine_create(warn.p, &quiet) == TOLK_OK);
  tolk_engine_free(quiet);

  CHECK(tolk_engine_stats_json(nullptr) == nullptr);
  CHECK(std::string(tolk_last_error_message()).find("engine") != std::string::npos);
  tolk_string_free(nullptr);
}
