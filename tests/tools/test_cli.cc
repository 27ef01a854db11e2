// The `tolk` program: translate from --text and stdin, --output-ids, n-best, info, and errors
// on stderr with a non-zero exit code.
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

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
