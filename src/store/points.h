// Point-vector helpers shared by both stores: series points as parallel sorted vectors of times
// (epoch ms, strictly ascending) and values, and the "newest write wins" rule on them.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/write_batch.h"

namespace sluice::store {

// Inserts (t, v) into sorted parallel vectors; an equal timestamp is replaced (last write wins).
void InsertPoint(std::vector<int64_t>* times, std::vector<double>* values, int64_t t, double v);

// Merges sorted `add` into sorted (times, values); equal timestamps take `add`'s value.
void MergeInto(std::vector<int64_t>* times, std::vector<double>* values,
               const std::vector<int64_t>& add_t, const std::vector<double>& add_v);

// Appends the points of (times, values) inside [from, to].
void CopyRange(const std::vector<int64_t>& times, const std::vector<double>& values, int64_t from,
               int64_t to, std::vector<int64_t>* out_t, std::vector<double>* out_v);

// Sorts points given in write order by time, keeping for each timestamp the value written last:
// the result is what InsertPoint-ing them one by one would give, in O(n log n).
void SortLastWins(std::vector<int64_t>* times, std::vector<double>* values);

// The message for a line whose series exists with another value type.
std::string TypeConflictError(size_t line, std::string_view series_key, ValueType existing,
                              ValueType written);

}  // namespace sluice::store
