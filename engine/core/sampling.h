// Reproducible random sampling for the monthly voucher self-check (每月凭证自查).
//
// Pure and fully specified, so anyone holding the recorded seed and the list
// the sample was drawn from can redraw it with any implementation: the
// generator is SplitMix64 (Steele, Lea, Flood 2014: state += 0x9e3779b97f4a7c15;
// z = state; z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
// z = (z ^ (z >> 27)) * 0x94d049bb133111eb; z ^= z >> 31), bounded draws use
// rejection (a draw r is kept when r < 2^64 - (2^64 mod n), then r mod n),
// and the sample is the first k positions of a Fisher-Yates shuffle run from
// the front (for i = 0..k-1: swap(i, i + draw(n - i))).
#ifndef APPROVALD_CORE_SAMPLING_H_
#define APPROVALD_CORE_SAMPLING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace approvald {

// Positions (0-based, into a population of `population` items) of a uniform
// sample of min(k, population) items without replacement, in draw order.
std::vector<size_t> SamplePositions(uint64_t seed, size_t population, size_t k);

// The seed as it is recorded: 16 lower-case hex digits.
std::string FormatSeed(uint64_t seed);
// The inverse of FormatSeed; nullopt unless exactly 16 hex digits.
std::optional<uint64_t> ParseSeed(std::string_view text);

}  // namespace approvald

#endif  // APPROVALD_CORE_SAMPLING_H_
