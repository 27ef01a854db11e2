// The demo model (models/tolk-demo-en-fr-de-es): it loads, translates the 20 UI strings to the
// outputs recorded for these weights (greedy, deterministic: tests/data/demo_ui_strings.tsv,
// written by tools/demo_model/record_ui_strings.py), in every execution mode, and round-trips
// through the `tolk` program.
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "../support/reference_data.h"
#include "tolk/engine.h"

using namespace tolk;

namespace {

struct Recorded {
  std::string tgt, source, translation;
};

std::vector<Recorded> recorded() {
  std::ifstream in(test::data_dir() + "/demo_ui_strings.tsv");
  REQUIRE(in.good());
  std::vector<Recorded> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto a = line.find('\t'), b = line.find('\t', a + 1);
    REQUIRE(b != std::string::npos);
    out.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  return out;
}

TranslationOptions greedy() {
  TranslationOptions o;
  o.beam_size = 1;
  return o;
}

std::string cli(const std::string& args) {
  FILE* pipe = popen((std::string(TOLK_CLI_PATH) + " " + args + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  CHECK(WEXITSTATUS(pclose(pipe)) == 0);
  return out;
}

}  // namespace

TEST_CASE("demo model: the 20 UI strings translate to their recorded outputs in every mode", "[demo]") {
  const auto cases = recorded();
  REQUIRE(cases.size() == 60);  // 20 strings × French, German, Spanish
  TranslatorEngine engine;
  for (auto mode : {ExecutionMode::kContinuous, ExecutionMode::kExclusive, ExecutionMode::kPool}) {
    ModelOptions o;
    o.mode = mode;
    o.workers = 2;
    const std::string name = "demo" + std::to_string(static_cast<int>(mode));
    engine.load_model(name, TOLK_DEMO_MODEL_DIR, o);
    for (const auto& c : cases) {
      INFO("mode " << static_cast<int>(mode) << ": " << c.source << " → " << c.tgt);
      CHECK(engine.translate_sync(name, c.source, "eng_Latn", c.tgt, greedy()).text == c.translation);
    }
  }
  // The first README command's sentence is recognisably French.
  const auto r = engine.translate_sync("demo0", "Open the file", "eng_Latn", "fra_Latn", greedy());
  CHECK(r.text.find("fichier") != std::string::npos);
}

TEST_CASE("demo model: the CLI round trip gives the engine's answer", "[demo]") {
  for (const auto& c : recorded()) {
    if (c.source != "Open the file" && c.source != "Undo" && c.source != "Full screen") continue;
    const std::string out = cli("translate --model " + std::string(TOLK_DEMO_MODEL_DIR) +
                                " --src eng_Latn --tgt " + c.tgt + " --beam 1 --text '" + c.source + "'");
    CHECK(out == c.translation + "\n");
  }
}
