#include "impl/runtime/server.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace migchan {

bool is_resource_error(int e) { return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM; }

server::server(event_loop& loop, const log_sink& log, const uri& listen, int backlog, hooks h)
    : loop_(loop), log_(log), hooks_(std::move(h)), bound_(listen) {
  if (bound_.kind == uri_kind::tcp && bound_.host.empty()) bound_.host = "127.0.0.1";
  listener_ = listen_on(bound_, backlog);
  if (bound_.kind == uri_kind::tcp) bound_.port = local_port(listener_.get());
  wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_) throw std::system_error(errno, std::generic_category(), "cannot create eventfd");
  loop_.add(listener_.get(), EPOLLIN, [this](std::uint32_t) { on_listen(); });
  loop_.add(wake_.get(), EPOLLIN, [this](std::uint32_t) {
    std::uint64_t v;
    while (::read(wake_.get(), &v, sizeof v) > 0) {
    }
    loop_.stop();
  });
}

// A bounded batch per wake-up, so that a flood of connects cannot starve the open ones.
// accepted() may close the listener (the destination died): checked before each accept.
void server::on_listen() {
  for (int i = 0; i < 64 && !paused_ && listener_; ++i) {
    if (!hooks_.room(false)) {
      hooks_.paused(false, {});
      return pause_accept(false);
    }
    unique_fd fd;
    try {
      fd = accept_nonblocking(listener_.get());
    } catch (const std::system_error& e) {
      if (!is_resource_error(e.code().value())) throw;
      hooks_.paused(true, e.what());
      return pause_accept(true);
    }
    if (!fd) return;
    hooks_.accepted(std::move(fd));
  }
}

void server::pause_accept(bool shortage) {
  if (paused_ || !listener_) return;
  paused_ = true;
  loop_.modify(listener_.get(), 0);
  if (shortage) loop_.add_timer(std::chrono::milliseconds(100), [this] { resume_accept(); });
}

void server::resume_accept() {
  if (!paused_ || !listener_ || !hooks_.room(true)) return;
  paused_ = false;
  loop_.modify(listener_.get(), EPOLLIN);
}

void server::close_listener() {
  loop_.remove(listener_.get());
  listener_.reset();
}

void server::run(std::chrono::milliseconds timeout, const std::function<json_line()>& start,
                 const std::function<bool()>& done, const std::function<json_line()>& summary) {
  const auto now = event_loop::clock::now();
  const auto deadline = timeout.count() > 0 ? now + timeout : now + std::chrono::hours(24 * 365);
  if (log_) {
    json_line j{{"t", now_t()}, {"listening", to_string(bound_)}};
    const auto fields = start();  // named: items() does not keep a temporary alive
    for (const auto& [k, v] : fields.items()) j[k] = v;
    log_(j);
  }
  // The log is the owner's and outlives this, so the hook stays valid if run() throws.
  if (log_) loop_.on_idle([&log = log_] { log.idle(); });
  loop_.run_until([&] { return done() || stop_requested_.load(); }, deadline);
  loop_.on_idle({});
  if (log_) log_.always(json_line{{"t", now_t()}, {"summary", summary()}});
  log_.idle();
}

void server::stop() noexcept {
  stop_requested_.store(true);
  const std::uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_.get(), &one, sizeof one);
}

}  // namespace migchan
