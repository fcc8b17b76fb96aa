// Deletion vector decoding: Z85, the RoaringBitmapArray layout, DV files.
#include "connectors/delta/deletion_vector.h"

#include <roaring/roaring.h>

#include <cstring>

namespace lakestream::delta {
namespace {

constexpr char kZ85Chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr uint32_t kMagic = 1681511377;

uint32_t LoadLe32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // x86/ARM little endian
}
uint64_t LoadLe64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t LoadBe32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

// UUID bytes -> canonical 8-4-4-4-12 text.
std::string UuidText(std::string_view b) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    auto c = static_cast<unsigned char>(b[i]);
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

}  // namespace

Result<std::string> Z85Decode(std::string_view text) {
  static int8_t table[256];
  static bool init = [] {
    std::memset(table, -1, sizeof(table));
    for (int i = 0; i < 85; ++i) table[static_cast<unsigned char>(kZ85Chars[i])] = int8_t(i);
    return true;
  }();
  (void)init;
  if (text.size() % 5 != 0) {
    return UserError("invalid Z85 text: length {} is not a multiple of 5", text.size());
  }
  std::string out;
  out.reserve(text.size() / 5 * 4);
  for (size_t i = 0; i < text.size(); i += 5) {
    uint64_t v = 0;
    for (size_t j = 0; j < 5; ++j) {
      int8_t d = table[static_cast<unsigned char>(text[i + j])];
      if (d < 0) return UserError("invalid Z85 character '{}' at offset {}", text[i + j], i + j);
      v = v * 85 + static_cast<uint64_t>(d);
    }
    if (v > 0xFFFFFFFFull) return UserError("invalid Z85 group at offset {}", i);
    out.push_back(static_cast<char>((v >> 24) & 0xFF));
    out.push_back(static_cast<char>((v >> 16) & 0xFF));
    out.push_back(static_cast<char>((v >> 8) & 0xFF));
    out.push_back(static_cast<char>(v & 0xFF));
  }
  return out;
}

std::string Z85Encode(std::string_view bytes) {
  std::string out;
  for (size_t i = 0; i + 4 <= bytes.size(); i += 4) {
    uint32_t v = LoadBe32(bytes.data() + i);
    char buf[5];
    for (int j = 4; j >= 0; --j) {
      buf[j] = kZ85Chars[v % 85];
      v /= 85;
    }
    out.append(buf, 5);
  }
  return out;
}

Result<std::vector<uint64_t>> ParseRoaringBitmapArray(std::string_view bytes,
                                                      std::string_view where) {
  if (bytes.size() < 12) return UserError("deletion vector {} is truncated", where);
  if (LoadLe32(bytes.data()) != kMagic) {
    return UserError("deletion vector {} has a bad magic number {} (expected {})", where,
                     LoadLe32(bytes.data()), kMagic);
  }
  uint64_t count = LoadLe64(bytes.data() + 4);
  size_t pos = 12;
  std::vector<uint64_t> rows;
  for (uint64_t b = 0; b < count; ++b) {
    if (pos + 4 > bytes.size()) return UserError("deletion vector {} is truncated", where);
    uint64_t key = LoadLe32(bytes.data() + pos);
    pos += 4;
    size_t avail = bytes.size() - pos;
    size_t used = roaring_bitmap_portable_deserialize_size(bytes.data() + pos, avail);
    if (used == 0) return UserError("deletion vector {}: corrupt roaring bitmap #{}", where, b);
    roaring_bitmap_t* bm = roaring_bitmap_portable_deserialize_safe(bytes.data() + pos, avail);
    if (bm == nullptr) {
      return UserError("deletion vector {}: corrupt roaring bitmap #{}", where, b);
    }
    size_t n = roaring_bitmap_get_cardinality(bm);
    std::vector<uint32_t> low(n);
    roaring_bitmap_to_uint32_array(bm, low.data());
    roaring_bitmap_free(bm);
    for (uint32_t l : low) rows.push_back((key << 32) | l);
    pos += used;
  }
  return rows;
}

std::string SerializeRoaringBitmapArray(const std::vector<uint64_t>& rows) {
  std::string out(12, '\0');
  uint32_t magic = kMagic;
  std::memcpy(out.data(), &magic, 4);
  uint64_t count = 0;
  size_t i = 0;
  while (i < rows.size()) {
    uint32_t key = static_cast<uint32_t>(rows[i] >> 32);
    roaring_bitmap_t* bm = roaring_bitmap_create();
    while (i < rows.size() && (rows[i] >> 32) == key) {
      roaring_bitmap_add(bm, static_cast<uint32_t>(rows[i]));
      ++i;
    }
    roaring_bitmap_run_optimize(bm);
    size_t size = roaring_bitmap_portable_size_in_bytes(bm);
    size_t at = out.size();
    out.resize(at + 4 + size);
    std::memcpy(out.data() + at, &key, 4);
    roaring_bitmap_portable_serialize(bm, out.data() + at + 4);
    roaring_bitmap_free(bm);
    ++count;
  }
  std::memcpy(out.data() + 4, &count, 8);
  return out;
}

Result<std::string> DeletionVectorPath(const DeletionVectorDescriptor& dv,
                                       std::string_view table_root) {
  if (dv.storage_type == "p") {
    std::string p = dv.path_or_inline_dv;
    if (p.rfind("file://", 0) == 0) p = p.substr(7);
    if (p.rfind("file:", 0) == 0) p = p.substr(5);
    return p;
  }
  if (dv.storage_type != "u") {
    return UserError("deletion vector storage type '{}' has no path", dv.storage_type);
  }
  const std::string& s = dv.path_or_inline_dv;
  if (s.size() < 20) return UserError("invalid deletion vector path '{}'", s);
  std::string prefix = s.substr(0, s.size() - 20);
  LS_ASSIGN_OR_RAISE(auto uuid, Z85Decode(std::string_view(s).substr(s.size() - 20)));
  std::string name = "deletion_vector_" + UuidText(uuid) + ".bin";
  std::string rel = prefix.empty() ? name : prefix + "/" + name;
  return storage::JoinPath(table_root, rel);
}

Result<std::vector<uint64_t>> LoadDeletionVector(const DeletionVectorDescriptor& dv,
                                                 std::string_view table_root,
                                                 storage::FileSystem* fs) {
  std::vector<uint64_t> rows;
  if (dv.storage_type == "i") {
    LS_ASSIGN_OR_RAISE(auto bytes, Z85Decode(dv.path_or_inline_dv));
    if (dv.size_in_bytes > 0 && static_cast<size_t>(dv.size_in_bytes) < bytes.size()) {
      bytes.resize(static_cast<size_t>(dv.size_in_bytes));
    }
    LS_ASSIGN_OR_RAISE(rows, ParseRoaringBitmapArray(bytes, "(inline)"));
  } else {
    LS_ASSIGN_OR_RAISE(auto path, DeletionVectorPath(dv, table_root));
    int64_t offset = dv.offset.value_or(1);
    // 4-byte big-endian size, the bitmap, 4-byte CRC.
    LS_ASSIGN_OR_RAISE(auto bytes, fs->ReadRange(path, offset, 4 + int64_t{dv.size_in_bytes}));
    if (bytes.size() < 4 + static_cast<size_t>(dv.size_in_bytes)) {
      return UserError("deletion vector file '{}' is truncated: expected {} bytes at offset {}",
                       path, dv.size_in_bytes + 4, offset);
    }
    uint32_t size = LoadBe32(bytes.data());
    if (size != static_cast<uint32_t>(dv.size_in_bytes)) {
      return UserError("deletion vector file '{}' at offset {}: size {} but the log says {}",
                       path, offset, size, dv.size_in_bytes);
    }
    LS_ASSIGN_OR_RAISE(rows, ParseRoaringBitmapArray(std::string_view(bytes).substr(4), path));
  }
  if (static_cast<int64_t>(rows.size()) != dv.cardinality) {
    return UserError("deletion vector {} holds {} rows but the log says cardinality {}",
                     dv.UniqueId(), rows.size(), dv.cardinality);
  }
  return rows;
}

}  // namespace lakestream::delta
