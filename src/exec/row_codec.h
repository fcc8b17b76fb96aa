// A compact, deterministic byte encoding of one row of Arrow values, for
// streaming state: grouping keys become state-store keys (equal values give
// equal bytes) and accumulators (GroupedAggregator::SaveState arrays) become
// state-store values. Written by hand: Arrow C++ has no public row format.
//
// Per value: a validity byte (0 = NULL), then fixed-width values as their
// little-endian bytes, variable-width values as a u32 length + bytes, structs
// as their fields in order, lists and maps as a u32 count + elements.
#pragma once

#include <arrow/array.h>
#include <arrow/builder.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lakestream::exec {

/// Appends `v` as 8 bytes that sort bytewise as the integers do (big-endian,
/// sign bit flipped): state keys in event-time order.
void AppendOrderedInt64(std::string* out, int64_t v);
/// Reads what AppendOrderedInt64 wrote (`bytes` holds at least 8).
int64_t ReadOrderedInt64(std::string_view bytes);

/// Appends the encoding of row `row` of each array to `out`.
Status EncodeRow(const std::vector<const arrow::Array*>& arrays, int64_t row, std::string* out);

/// Decodes one value per builder from `*in` (advancing it), appending to the
/// builders (made with arrow::MakeBuilder for the encoded types).
Status DecodeRow(std::string_view* in, const std::vector<arrow::ArrayBuilder*>& builders);

}  // namespace lakestream::exec
