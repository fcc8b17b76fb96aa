#include "common/init.h"

#include <arrow/compute/initialize.h>
#include <arrow/util/utf8.h>

#include <mutex>

namespace lakestream {

Status Initialize() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] {
    // arrow::util::ValidateUTF8 reads a table this fills.
    arrow::util::InitializeUTF8();
    status = arrow::compute::Initialize();
  });
  return status;
}

}  // namespace lakestream
