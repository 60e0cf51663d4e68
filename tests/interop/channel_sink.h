// channel_sink: a drain-only migration receiver that records accept order and first bytes.
#pragma once

#include "impl/runtime/fd.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

namespace migchan::interop {

struct sink_channel {
  size_t accept_index = 0;
  std::vector<uint8_t> head = {};  // first bytes, up to head_size
  size_t bytes = 0;                // everything received
  bool closed = false;             // the peer closed it (EOF)
};

// Listens on a unix socket from construction on and drains every connection in a poll() thread.
// It never writes, which is enough for a precopy or multifd source to reach `completed`.
class channel_sink {
 public:
  static constexpr size_t head_size = 64;  // one MultiFDInit_t

  explicit channel_sink(const std::filesystem::path& socket_path);
  ~channel_sink();
  channel_sink(const channel_sink&) = delete;
  channel_sink& operator=(const channel_sink&) = delete;

  // Waits until `count` connections were accepted and all of them closed; returns them in
  // accept order. Throws std::runtime_error at the deadline, describing what it saw.
  std::vector<sink_channel> wait_all_closed(size_t count, std::chrono::milliseconds timeout);

 private:
  void run();

  unique_fd listen_;
  unique_fd stop_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<sink_channel> channels_;
  std::thread thread_;
};

}  // namespace migchan::interop
