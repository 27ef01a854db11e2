// incident_row.h — one mode's results as flat values (texts, numbers and samples by name), and
// their text form, one line per value, in which a child process hands its row to the parent.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace tolk::bench {

// "Not measured": what Row::get answers for a missing number; the workload and the summary
// use it too.
inline const double kNaN = std::nan("");

struct Row {
  std::map<std::string, std::string> str;
  std::map<std::string, double> num;
  std::map<std::string, std::vector<double>> vec;

  double get(const std::string& k) const {
    auto it = num.find(k);
    return it == num.end() ? kNaN : it->second;
  }
  const std::vector<double>& samples(const std::string& k) const {
    static const std::vector<double> empty;
    auto it = vec.find(k);
    return it == vec.end() ? empty : it->second;
  }
  std::string text(const std::string& k) const {
    auto it = str.find(k);
    return it == str.end() ? std::string() : it->second;
  }
};

// One line per value: "s KEY TEXT" (line breaks in TEXT become spaces), "n KEY NUMBER",
// "v KEY N1 N2 ..."; numbers with 17 significant digits, so that they come back unchanged.
std::string serialize(const Row& r);
// The inverse of serialize(); lines it does not recognise are skipped.
Row deserialize(const std::string& text);

}  // namespace tolk::bench
