// Deletion vectors (PROTOCOL.md "Deletion Vectors"): which rows of a data file
// are logically deleted. The descriptor in an add action points at a
// RoaringBitmapArray stored inline (Z85 text, 'i'), in a file next to the
// table named by a UUID ('u'), or at an absolute path ('p'). Bitmaps are
// decoded with CRoaring.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "connectors/delta/actions.h"
#include "storage/filesystem.h"

namespace lakestream::delta {

/// Decodes Z85 (ZeroMQ's base85); the length must be a multiple of 5.
Result<std::string> Z85Decode(std::string_view text);
/// Encodes Z85; the length must be a multiple of 4.
std::string Z85Encode(std::string_view bytes);

/// Parses a serialized RoaringBitmapArray ("magic 1681511377, int64 count,
/// then per 32-bit bitmap a uint32 key and a portable roaring bitmap") into
/// the sorted deleted row indexes. `where` names the source in errors.
Result<std::vector<uint64_t>> ParseRoaringBitmapArray(std::string_view bytes,
                                                      std::string_view where);
/// Serializes sorted row indexes as a RoaringBitmapArray (with magic).
std::string SerializeRoaringBitmapArray(const std::vector<uint64_t>& rows);

/// The absolute path of an on-disk deletion vector ('u' or 'p').
Result<std::string> DeletionVectorPath(const DeletionVectorDescriptor& dv,
                                       std::string_view table_root);

/// Loads the sorted deleted row indexes a descriptor points at, checking the
/// size and cardinality it declares.
Result<std::vector<uint64_t>> LoadDeletionVector(const DeletionVectorDescriptor& dv,
                                                 std::string_view table_root,
                                                 storage::FileSystem* fs);

}  // namespace lakestream::delta
