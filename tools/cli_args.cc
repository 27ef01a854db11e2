// cli_args.cc — see cli_args.h.
#include "cli_args.h"

#include <cstdlib>
#include <stdexcept>

namespace tolk::cli {
namespace {

long long to_int(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno == ERANGE)
    throw std::invalid_argument(flag + " expects an integer, got '" + value + "'");
  return v;
}

double to_double(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0') throw std::invalid_argument(flag + " expects a number, got '" + value + "'");
  return v;
}

}  // namespace

const char* usage() {
  return "usage:\n"
         "  tolk translate --model DIR --src LANG --tgt LANG [--text TEXT] [--beam N]\n"
         "                 [--max-new-tokens N] [--length-penalty X] [--n-best N] [--output-ids]\n"
         "                 [--threads N] [--compute-type float32|bfloat16|int8|auto]\n"
         "      Translates --text, or each line of standard input, one output line per input.\n"
         "      With --n-best N > 1, prints N lines per input: rank<TAB>score<TAB>translation.\n"
         "      --output-ids prints the generated token ids instead of text.\n"
         "      --compute-type: the format of the matrix products (default float32; the\n"
         "      model file is not changed).\n"
         "  tolk info --model DIR [--compute-type TYPE]\n"
         "      Prints the model's config, size, compute type and languages.\n"
         "  tolk version\n";
}

Args parse_args(const std::vector<std::string>& argv) {
  Args a;
  if (argv.empty()) throw std::invalid_argument("missing command");
  a.command = argv[0];
  if (a.command == "--help" || a.command == "-h") a.command = "help";
  if (a.command != "translate" && a.command != "info" && a.command != "help" && a.command != "version")
    throw std::invalid_argument("unknown command '" + a.command + "'");
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argv.size()) throw std::invalid_argument(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--model") a.model_dir = value();
    else if (flag == "--src") a.src_lang = value();
    else if (flag == "--tgt") a.tgt_lang = value();
    else if (flag == "--text") a.text = value();
    else if (flag == "--beam") a.options.beam_size = static_cast<int>(to_int(flag, value()));
    else if (flag == "--max-new-tokens") a.options.max_new_tokens = to_int(flag, value());
    else if (flag == "--length-penalty") a.options.length_penalty = to_double(flag, value());
    else if (flag == "--n-best") a.n_best = static_cast<int>(to_int(flag, value()));
    else if (flag == "--threads") a.engine.intra_threads = static_cast<int>(to_int(flag, value()));
    else if (flag == "--compute-type") a.model.compute_type = value();
    else if (flag == "--output-ids") a.output_ids = true;
    else if (flag == "--help" || flag == "-h") a.command = "help";
    else throw std::invalid_argument("unknown option '" + flag + "'");
  }
  if (a.command == "translate" || a.command == "info")
    if (a.model_dir.empty()) throw std::invalid_argument("--model DIR is required");
  if (a.command == "translate") {
    if (a.src_lang.empty() || a.tgt_lang.empty())
      throw std::invalid_argument("--src LANG and --tgt LANG are required");
    if (a.n_best < 1) throw std::invalid_argument("--n-best must be >= 1");
    a.options.num_hypotheses = a.n_best;
    if (!a.options.beam_size && a.n_best > 1) a.options.beam_size = a.n_best;
  }
  return a;
}

}  // namespace tolk::cli
