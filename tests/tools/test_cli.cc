// The `tolk` program: translate from --text and stdin, --output-ids, n-best, info, and errors
// on stderr with a non-zero exit code.
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../support/reference_data.h"

namespace {

struct Run {
  int exit_code;
  std::string out;
};

// Runs a shell command line, capturing stdout; stderr is folded in when `with_stderr`.
Run run(const std::string& args, bool with_stderr = false) {
  // The redirection goes first so that `args` may end with a here-document.
  const std::string cmd =
      std::string(TOLK_CLI_PATH) + (with_stderr ? " 2>&1 " : " 2>/dev/null ") + args;
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

TEST_CASE("tolk translate prints HF's texts and ids", "[cli]") {
  const auto& c = tolk::test::reference()["cases"]["short"];
  const std::string model = " --model " + tolk::test::dev_dir() + " --src eng_Latn --tgt fra_Latn --max-new-tokens 20";
  auto text = run("translate" + model + " --text " + quote(c["src_text"]));
  CHECK(text.exit_code == 0);
  CHECK(text.out == c["greedy"]["text"].get<std::string>() + "\n");
  auto ids = run("translate" + model + " --output-ids --beam 4 --text " + quote(c["src_text"]));
  std::string want;
  for (auto id : tolk::test::ids_of(c["beam4"]["sequence"])) want += (want.empty() ? "" : " ") + std::to_string(id);
  CHECK(ids.out == want + "\n");
  // stdin: one output line per input line, in order, empty lines included
  const auto& s = tolk::test::reference()["cases"]["sentence"];
  auto lines = run("translate" + model + " <<'EOF'\n" + c["src_text"].get<std::string>() + "\n\n" +
                   s["src_text"].get<std::string>() + "\nEOF\n");
  CHECK(lines.exit_code == 0);
  CHECK(lines.out == c["greedy"]["text"].get<std::string>() + "\n" +
                         tolk::test::reference()["cases"]["empty"]["greedy"]["text"].get<std::string>() + "\n" +
                         s["greedy"]["text"].get<std::string>() + "\n");
  auto nbest = run("translate" + model + " --n-best 3 --text " + quote(c["src_text"]));
  CHECK(std::count(nbest.out.begin(), nbest.out.end(), '\n') == 3);
  CHECK(nbest.out.rfind("0\t", 0) == 0);
}

TEST_CASE("tolk info and errors", "[cli]") {
  auto info = run("info --model " + tolk::test::dev_dir());
  CHECK(info.exit_code == 0);
  CHECK(info.out.find("eng_Latn") != std::string::npos);
  CHECK(info.out.find("d_model") != std::string::npos);
  auto bad_lang = run("translate --model " + tolk::test::dev_dir() + " --src eng_Latn --tgt fr --text hi", true);
  CHECK(bad_lang.exit_code == 1);
  CHECK(bad_lang.out.find("UNKNOWN_LANGUAGE") != std::string::npos);
  auto no_model = run("translate --model /nonexistent --src eng_Latn --tgt fra_Latn --text hi", true);
  CHECK(no_model.exit_code == 1);
  CHECK(no_model.out.find("FILE_NOT_FOUND") != std::string::npos);
  auto usage = run("translate --src eng_Latn", true);
  CHECK(usage.exit_code == 2);
  CHECK(run("frobnicate").exit_code == 2);
  CHECK(run("translate --model x --src a --tgt b --beam notanumber").exit_code == 2);
}

namespace {

// A scratch directory removed at scope exit; with `copy_from`, a copy of that model directory
// (without the reference files).
struct CliScratch {
  std::filesystem::path dir;
  explicit CliScratch(const std::string& tag, const std::string& copy_from = "") {
    static int counter = 0;
    dir = std::filesystem::temp_directory_path() /
          ("tolk_cli_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    if (copy_from.empty()) return;
    for (const auto& e : std::filesystem::directory_iterator(copy_from)) {
      const std::string name = e.path().filename().string();
      if (name != "reference.json" && name != "reference_tensors.safetensors")
        std::filesystem::copy_file(e.path(), dir / name);
    }
  }
  ~CliScratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  CliScratch(const CliScratch&) = delete;
  CliScratch& operator=(const CliScratch&) = delete;

  std::string path(const std::string& name = "") const {
    return name.empty() ? dir.string() : (dir / name).string();
  }
  std::string read(const std::string& name) const {
    std::ifstream in(dir / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  void write(const std::string& name, const std::string& bytes) const {
    std::ofstream(dir / name, std::ios::binary | std::ios::trunc) << bytes;
  }
};

// Runs `args` with stdout and stderr kept apart: stderr goes to *err.
Run run_split(const std::string& args, std::string* err) {
  CliScratch tmp("stderr");
  // The later redirection of fd 2 wins over run()'s 2>/dev/null.
  Run r = run(args + " 2>" + quote(tmp.path("stderr.txt")));
  *err = tmp.read("stderr.txt");
  return r;
}

}  // namespace

TEST_CASE("tolk command-line errors exit 2, name the problem and print the usage", "[cli][errors]") {
  const std::string dev = quote(tolk::test::dev_dir());
  const std::string model = " --model " + dev + " --src eng_Latn --tgt fra_Latn";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"translate" + model + " --frobnicate --text hi", "tolk: unknown option '--frobnicate'"},
      {"translate" + model + " --text hi --beam", "tolk: --beam needs a value"},
      {"translate" + model + " --n-best 0 --text hi", "tolk: --n-best must be >= 1"},
      {"translate" + model + " --beam notanumber --text hi", "tolk: --beam expects an integer, got 'notanumber'"},
      {"translate --src eng_Latn", "tolk: --model DIR is required"},
      {"frobnicate", "tolk: unknown command 'frobnicate'"},
  };
  for (const auto& c : cases) {
    INFO("tolk " << c.first);
    std::string err;
    const Run r = run_split(c.first, &err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(err.find(c.second + "\nusage:\n") != std::string::npos);
  }
}

TEST_CASE("tolk on a corrupt model exits 1 with INVALID_MODEL", "[cli][errors]") {
  // A model.safetensors whose 8-byte prefix claims a 16-byte header the file does not have, and
  // the real pytorch_model.bin cut in half.
  CliScratch st("corrupt_st", tolk::test::dev_dir());
  st.write("model.safetensors", std::string("\x10\x00\x00\x00\x00\x00\x00\x00{", 9));
  CliScratch bin("corrupt_bin", tolk::test::dev_bin_dir());
  const std::string real = bin.read("pytorch_model.bin");
  REQUIRE(real.size() > 1000);
  bin.write("pytorch_model.bin", real.substr(0, real.size() / 2));
  // {arguments, the file the message must name}
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"translate --model " + quote(st.path()) + " --src eng_Latn --tgt fra_Latn --text hi", "model.safetensors"},
      {"info --model " + quote(bin.path()), "pytorch_model.bin"}};
  for (const auto& run_case : runs) {
    INFO("tolk " << run_case.first);
    std::string err;
    const Run r = run_split(run_case.first, &err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(err.find("tolk: INVALID_MODEL: ") != std::string::npos);
    CHECK(err.find(run_case.second) != std::string::npos);  // the message names the file
    CHECK(err.find("usage:") == std::string::npos);         // not a command-line error
  }
}

TEST_CASE("tolk translate from stdin: a bad line gets an empty output line and its status on stderr", "[cli][errors]") {
  const auto& cases = tolk::test::reference()["cases"];
  std::string words;
  for (int i = 0; i < 300; ++i) words += "word ";  // over the dev model's 256 positions
  CliScratch tmp("stdin");
  tmp.write("in.txt", cases["short"]["src_text"].get<std::string>() + "\n" + "bad \xC3( utf8\n" +
                          cases["sentence"]["src_text"].get<std::string>() + "\n" + words + "\n");
  std::string err;
  const Run r = run_split("translate --model " + quote(tolk::test::dev_dir()) +
                              " --src eng_Latn --tgt fra_Latn --max-new-tokens 20 < " + quote(tmp.path("in.txt")),
                          &err);
  CHECK(r.exit_code == 1);
  // One output line per input line: the bad lines' are empty, the others are translated.
  CHECK(r.out == cases["short"]["greedy"]["text"].get<std::string>() + "\n\n" +
                     cases["sentence"]["greedy"]["text"].get<std::string>() + "\n\n");
  CHECK(err.find("tolk: line 2: INVALID_UTF8: ") != std::string::npos);
  CHECK(err.find("tolk: line 4: INPUT_TOO_LONG: ") != std::string::npos);
  CHECK(err.find("tolk: line 1:") == std::string::npos);
  CHECK(err.find("tolk: line 3:") == std::string::npos);
}

TEST_CASE("tolk translate from stdin: line numbers count across batches", "[cli][errors]") {
  // The CLI translates stdin in batches of 32 lines; a bad line 35 is reported as line 35.
  std::string input;
  for (int i = 1; i <= 40; ++i) input += i == 35 ? std::string("bad \xC3( utf8\n") : std::string("Hello world.\n");
  CliScratch tmp("stdin-lines");
  tmp.write("in.txt", input);
  std::string err;
  const Run r = run_split("translate --model " + quote(tolk::test::dev_dir()) +
                              " --src eng_Latn --tgt fra_Latn --max-new-tokens 4 < " + quote(tmp.path("in.txt")),
                          &err);
  CHECK(r.exit_code == 1);
  CHECK(err.find("tolk: line 35: INVALID_UTF8: ") != std::string::npos);
  CHECK(err.find("tolk: line 3: ") == std::string::npos);
}
