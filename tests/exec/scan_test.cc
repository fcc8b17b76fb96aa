// ScanNode: every batch of every task is read exactly once, also when idle
// workers share the tasks still being read (set_share_tasks), and a read
// error ends the scan for every worker sharing the task.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "exec/basic_operators.h"
#include "exec_test_util.h"

namespace lakestream::exec {
namespace {

using testing::MakeBatch;
using testing::RunPlan;

std::shared_ptr<arrow::Schema> S() { return arrow::schema({arrow::field("a", arrow::int32())}); }

// A task whose iterator yields `n` one-row batches with values base..base+n-1,
// counting the calls that overlap (there must be none: the iterator of a
// shared task is serialized).
ScanTask CountingTask(int base, int n, std::atomic<int>* inside, std::atomic<bool>* overlapped,
                      int fail_at = -1) {
  return [=]() -> Result<BatchIterator> {
    auto next = std::make_shared<int>(0);
    return BatchIterator([=]() -> Result<BatchPtr> {
      if (inside->fetch_add(1) != 0) *overlapped = true;
      std::this_thread::yield();
      inside->fetch_sub(1);
      if (*next == fail_at) return Status::IOError("read failed at batch ", fail_at);
      if (*next == n) return nullptr;
      int v = base + (*next)++;
      return MakeBatch(S(), {"[" + std::to_string(v) + "]"});
    });
  };
}

std::vector<int> Values(const std::vector<BatchPtr>& batches) {
  std::vector<int> out;
  for (const auto& b : batches) {
    const auto& a = static_cast<const arrow::Int32Array&>(*b->column(0));
    for (int64_t i = 0; i < a.length(); ++i) out.push_back(a.Value(i));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ScanTest, SharedTasksReadEveryBatchOnce) {
  for (bool share : {false, true}) {
    std::atomic<int> inside[2] = {0, 0};
    std::atomic<bool> overlapped{false};
    // One long task and a short one: with sharing, the worker that finishes
    // the short one joins the long one.
    std::vector<ScanTask> tasks = {CountingTask(0, 500, &inside[0], &overlapped),
                                   CountingTask(1000, 3, &inside[1], &overlapped)};
    auto scan = std::make_shared<ScanNode>(S(), std::move(tasks), "Scan(test)");
    scan->set_share_tasks(share);
    auto out = RunPlan(scan, /*threads=*/3);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    std::vector<int> want;
    for (int i = 0; i < 500; ++i) want.push_back(i);
    for (int i = 1000; i < 1003; ++i) want.push_back(i);
    EXPECT_EQ(Values(*out), want) << "share=" << share;
    EXPECT_FALSE(overlapped.load()) << "share=" << share;
  }
}

TEST(ScanTest, ErrorInSharedTaskFailsTheScan) {
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::vector<ScanTask> tasks = {CountingTask(0, 500, &inside, &overlapped, /*fail_at=*/200)};
  auto scan = std::make_shared<ScanNode>(S(), std::move(tasks), "Scan(test)");
  scan->set_share_tasks(true);
  auto out = RunPlan(scan, /*threads=*/2);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("read failed at batch 200"), std::string::npos)
      << out.status().ToString();
}

}  // namespace
}  // namespace lakestream::exec
