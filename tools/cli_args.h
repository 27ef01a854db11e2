// cli_args.h — parsing of the `tolk` command line (no logic beyond turning words into values).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tolk/options.h"

namespace tolk::cli {

struct Args {
  std::string command;            // "translate", "info", "help", "version"
  std::string model_dir;
  std::string src_lang, tgt_lang;
  std::optional<std::string> text;
  bool output_ids = false;
  int n_best = 1;
  int batch_size = 32;
  TranslationOptions options;
  EngineOptions engine;
  ModelOptions model;
};

// Throws std::invalid_argument with a message meant for the user.
Args parse_args(const std::vector<std::string>& argv);

const char* usage();

}  // namespace tolk::cli
