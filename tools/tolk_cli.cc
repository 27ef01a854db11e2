// tolk_cli.cc — the `tolk` command-line program: translate and info over the C++ API.
#include <fmt/format.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli_args.h"
#include "tolk/engine.h"

namespace {

void print_result(const tolk::TranslationResult& r, const tolk::cli::Args& a) {
  auto render = [&](const tolk::Hypothesis& h) {
    return a.output_ids ? fmt::format("{}", fmt::join(h.ids, " ")) : h.text;
  };
  if (a.n_best == 1) {
    std::cout << render(r.hypotheses.at(0)) << "\n";
    return;
  }
  for (size_t i = 0; i < r.hypotheses.size(); ++i)
    std::cout << fmt::format("{}\t{:.6f}\t{}\n", i, r.hypotheses[i].score, render(r.hypotheses[i]));
}

int translate(tolk::TranslatorEngine& engine, const tolk::cli::Args& a) {
  engine.load_model("model", a.model_dir, a.model);
  if (a.text) {
    print_result(engine.translate_sync("model", *a.text, a.src_lang, a.tgt_lang, a.options), a);
    return 0;
  }
  int status = 0;
  size_t lines_before = 0;  // input lines of earlier batches, for the line numbers
  std::vector<std::string> lines;
  auto flush = [&] {
    if (lines.empty()) return;
    auto results = engine.translate_batch("model", lines, a.src_lang, a.tgt_lang, a.options);
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].ok()) {
        print_result(results[i], a);
      } else {  // keep line alignment: an empty output line, the reason on stderr
        std::cout << "\n";
        std::cerr << fmt::format("tolk: line {}: {}: {}\n", lines_before + i + 1,
                                 tolk::status_code_name(results[i].status), results[i].error);
        status = 1;
      }
    }
    std::cout.flush();
    lines_before += lines.size();
    lines.clear();
  };
  std::string line;
  while (std::getline(std::cin, line)) {
    lines.push_back(line);
    if (static_cast<int>(lines.size()) >= a.batch_size) flush();
  }
  flush();
  return status;
}

int info(tolk::TranslatorEngine& engine, const tolk::cli::Args& a) {
  engine.load_model("model", a.model_dir, a.model);
  const auto i = engine.model_info("model");
  std::cout << fmt::format("model: {}\nparameters: {}\ncompute type: {}\nweights: {:.1f} MiB\n"
                           "config: {}\nlanguages ({}): {}\n",
                           i.directory, i.parameters, i.compute_type, i.weight_bytes / 1048576.0,
                           i.config_json,
                           i.languages.size(), fmt::join(i.languages, " "));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tolk::cli::Args args;
  try {
    args = tolk::cli::parse_args(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "tolk: " << e.what() << "\n" << tolk::cli::usage();
    return 2;
  }
  if (args.command == "help") {
    std::cout << tolk::cli::usage();
    return 0;
  }
  if (args.command == "version") {
    std::cout << "tolk " << tolk::version() << "\n";
    return 0;
  }
  try {
    tolk::TranslatorEngine engine(args.engine);
    return args.command == "info" ? info(engine, args) : translate(engine, args);
  } catch (const tolk::Error& e) {
    std::cerr << fmt::format("tolk: {}: {}\n", tolk::status_code_name(e.code()), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "tolk: INTERNAL: " << e.what() << "\n";
    return 1;
  }
}
