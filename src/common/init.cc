#include "common/init.h"

#include <arrow/compute/initialize.h>

#include <mutex>

namespace lakestream {

Status Initialize() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] { status = arrow::compute::Initialize(); });
  return status;
}

}  // namespace lakestream
