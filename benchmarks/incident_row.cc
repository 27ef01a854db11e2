// incident_row.cc — see incident_row.h.
#include "incident_row.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <utility>

namespace tolk::bench {

namespace {

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

}  // namespace

std::string serialize(const Row& r) {
  std::string out;
  for (const auto& [k, v] : r.str) out += fmt::format("s {} {}\n", k, one_line(v));
  for (const auto& [k, v] : r.num) out += fmt::format("n {} {:.17g}\n", k, v);
  for (const auto& [k, v] : r.vec) {
    out += fmt::format("v {}", k);
    for (double x : v) out += fmt::format(" {:.17g}", x);
    out += "\n";
  }
  return out;
}

Row deserialize(const std::string& text) {
  Row r;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 3) continue;
    const char kind = line[0];
    const auto sp = line.find(' ', 2);
    const std::string key = line.substr(2, sp == std::string::npos ? std::string::npos : sp - 2);
    const std::string rest = sp == std::string::npos ? std::string() : line.substr(sp + 1);
    if (kind == 's') {
      r.str[key] = rest;
    } else if (kind == 'n') {
      r.num[key] = std::strtod(rest.c_str(), nullptr);
    } else if (kind == 'v') {
      std::istringstream values(rest);
      std::vector<double> v;
      std::string x;
      while (values >> x) v.push_back(std::strtod(x.c_str(), nullptr));
      r.vec[key] = std::move(v);
    }
  }
  return r;
}

}  // namespace tolk::bench
