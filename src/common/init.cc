#include "common/init.h"

#include <arrow/compute/initialize.h>
#include <arrow/util/utf8.h>

#include <cstdlib>
#include <mutex>

namespace lakestream {

Status Initialize() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] {
    // Arrow picks its default pool on first use. Its default, mimalloc,
    // returns freed pages to the kernel eagerly, so a stream of large
    // batches spent a third of its CPU zeroing fresh pages in the kernel;
    // jemalloc keeps them (0.5 -> 0.2 kernel CPU-s per 500k Kafka events).
    // An ARROW_DEFAULT_MEMORY_POOL the user set wins.
    setenv("ARROW_DEFAULT_MEMORY_POOL", "jemalloc", /*overwrite=*/0);
    // arrow::util::ValidateUTF8 reads a table this fills.
    arrow::util::InitializeUTF8();
    status = arrow::compute::Initialize();
  });
  return status;
}

}  // namespace lakestream
