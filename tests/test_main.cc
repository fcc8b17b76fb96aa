// GoogleTest main for every layer's tests: initializes Arrow's compute kernels first.
#include <gtest/gtest.h>

#include "common/init.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  auto st = lakestream::Initialize();
  if (!st.ok()) {
    fprintf(stderr, "initialization failed: %s\n", st.ToString().c_str());
    return 1;
  }
  return RUN_ALL_TESTS();
}
