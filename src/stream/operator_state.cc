// Until the state layer's stores are wired in, an in-memory versioned map.
#include "stream/operator_state.h"

#include <map>

namespace lakestream::stream {

namespace {

class MemoryOperatorState : public OperatorState {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) override {
    auto it = live_.find(std::string(key));
    if (it == live_.end()) return std::nullopt;
    return it->second;
  }
  Status Put(std::string_view key, std::string_view value) override {
    live_[std::string(key)] = std::string(value);
    return Status::OK();
  }
  Status Delete(std::string_view key) override {
    live_.erase(std::string(key));
    return Status::OK();
  }
  Status Scan(const std::function<Status(std::string_view, std::string_view)>& fn) override {
    for (const auto& [k, v] : live_) ARROW_RETURN_NOT_OK(fn(k, v));
    return Status::OK();
  }
  Status Load(int64_t version) override {
    version_ = version;
    auto it = versions_.find(version);
    live_ = it == versions_.end() ? std::map<std::string, std::string>() : it->second;
    return Status::OK();
  }
  Status Commit() override {
    versions_[++version_] = live_;
    return Status::OK();
  }
  OperatorStateMetrics metrics() const override { return {}; }

 private:
  int64_t version_ = 0;
  std::map<std::string, std::string> live_;
  std::map<int64_t, std::map<std::string, std::string>> versions_;
};

}  // namespace

Result<std::unique_ptr<OperatorState>> OperatorState::Open(const std::string&, int, const std::string&,
                                                           const std::string&) {
  return std::make_unique<MemoryOperatorState>();
}

}  // namespace lakestream::stream
