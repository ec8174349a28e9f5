#include "core/sampling.h"

#include <numeric>

namespace approvald {
namespace {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Below(uint64_t n) {
    // 2^64 mod n, computed without 128-bit arithmetic.
    const uint64_t rem = (0 - n) % n;
    for (;;) {
      uint64_t r = Next();
      if (rem == 0 || r < 0 - rem) return r % n;
    }
  }

 private:
  uint64_t state_;
};

}  // namespace

std::vector<size_t> SamplePositions(uint64_t seed, size_t population, size_t k) {
  if (k > population) k = population;
  std::vector<size_t> order(population);
  std::iota(order.begin(), order.end(), size_t{0});
  SplitMix64 rng(seed);
  for (size_t i = 0; i < k; ++i) {
    size_t j = i + static_cast<size_t>(rng.Below(population - i));
    std::swap(order[i], order[j]);
  }
  order.resize(k);
  return order;
}

std::string FormatSeed(uint64_t seed) {
  static const char* kHex = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[i] = kHex[seed & 15];
    seed >>= 4;
  }
  return s;
}

std::optional<uint64_t> ParseSeed(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace approvald
