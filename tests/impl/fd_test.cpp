#include "impl/runtime/fd.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <type_traits>

using migchan::unique_fd;

namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

struct pipe_fds {
  int r = -1, w = -1;
  pipe_fds() {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    r = p[0], w = p[1];
  }
};

}  // namespace

static_assert(!std::is_copy_constructible_v<unique_fd>);
static_assert(!std::is_copy_assignable_v<unique_fd>);
static_assert(std::is_nothrow_move_constructible_v<unique_fd>);
static_assert(std::is_nothrow_move_assignable_v<unique_fd>);

TEST_CASE("a default unique_fd holds -1 and is false") {
  unique_fd fd;
  CHECK(fd.get() == -1);
  CHECK_FALSE(fd);
}

TEST_CASE("unique_fd closes its descriptor when destroyed") {
  pipe_fds p;
  {
    unique_fd r(p.r), w(p.w);
    CHECK(r);
    CHECK(is_open(p.r));
  }
  CHECK_FALSE(is_open(p.r));
  CHECK_FALSE(is_open(p.w));
}

TEST_CASE("a move leaves -1 behind and closes the target's old descriptor") {
  pipe_fds p;
  unique_fd a(p.r);
  unique_fd b(std::move(a));
  CHECK(a.get() == -1);  // NOLINT: checking the moved-from state is the point
  CHECK(b.get() == p.r);

  unique_fd c(p.w);
  c = std::move(b);
  CHECK(b.get() == -1);  // NOLINT
  CHECK(c.get() == p.r);
  CHECK_FALSE(is_open(p.w));  // c's previous descriptor
  CHECK(is_open(p.r));

  unique_fd& same = c;
  c = std::move(same);  // self-move keeps the descriptor
  CHECK(c.get() == p.r);
  CHECK(is_open(p.r));
}

TEST_CASE("release gives the descriptor away and reset closes it") {
  pipe_fds p;
  unique_fd r(p.r), w(p.w);
  int raw = r.release();
  CHECK(raw == p.r);
  CHECK(r.get() == -1);
  r.reset();  // owns nothing: must not close raw
  CHECK(is_open(raw));
  ::close(raw);

  w.reset();
  CHECK(w.get() == -1);
  CHECK_FALSE(is_open(p.w));
}

TEST_CASE("set_nonblocking toggles O_NONBLOCK and names the fd on failure") {
  pipe_fds p;
  unique_fd r(p.r), w(p.w);
  migchan::set_nonblocking(r.get());
  CHECK((::fcntl(r.get(), F_GETFL) & O_NONBLOCK) != 0);
  migchan::set_nonblocking(r.get(), false);
  CHECK((::fcntl(r.get(), F_GETFL) & O_NONBLOCK) == 0);

  try {
    migchan::set_nonblocking(-1);
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK((e.code() == std::errc::bad_file_descriptor));  // (()): error_code is not printable
    CHECK(std::string(e.what()) == "cannot set O_NONBLOCK on fd -1: Bad file descriptor");
  }
}
