// Runtime figures (a benchmark, not a timed test): the cost of one classify()
// and step() call; connections accepted, peeked and classified per second by
// `serve` against a bare accept+peek+close loop in the same run; accept-to-
// decision latency with 1,000 concurrent connections; a soak of 10,000 abandoned
// connections under descriptor exhaustion; peak memory.
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "impl/runtime/event_loop.h"
#include "impl/runtime/receiver.h"
#include "model/builtin.h"

using namespace migchan;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

double secs(steady::duration d) { return std::chrono::duration<double>(d).count(); }

double thread_cpu() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n;
}

// --- 1. classify() and step()

void bench_classify() {
  std::mt19937 g(42);
  std::vector<observation> obs(4096);
  for (auto& o : obs) {
    o.multifd = g() & 1, o.postcopy_ram = g() & 1, o.postcopy_preempt = o.postcopy_ram && (g() & 1);
    o.has_main = g() & 1, o.all_multifd = o.multifd && (g() & 1), o.has_preempt = o.postcopy_preempt && (g() & 1);
    o.transport = static_cast<transport>(g() % enum_size<transport>);
    o.state = static_cast<mig_status>(g() % enum_size<mig_status>);
    o.magic = static_cast<first_bytes>(g() % enum_size<first_bytes>);
  }
  // step() gets random destination configurations and arrivals too (any kind, transport,
  // first bytes, run length and MultiFDInit_t), each state the one the step before left: called
  // as the receiver calls it (impl/runtime/decider.cpp), from inputs the compiler cannot fold
  // into the loop, which one fixed configuration and arrival let it do.
  struct step_input {
    dest_config<concrete_domain> config;
    arrival<concrete_domain> channel;
  };
  std::vector<step_input> steps(4096);
  for (auto& in : steps) {
    auto& d = in.config;
    d.multifd = g() & 1, d.postcopy_ram = g() & 1, d.postcopy_preempt = d.postcopy_ram && (g() & 1);
    d.mapped_ram = d.multifd && (g() % 4 == 0), d.channels = d.multifd ? 1 + int(g() % 8) : 1;
    d.exit_on_error = g() & 1;
    in.channel = {true,
                  int(g() % enum_size<channel_kind>),
                  int(g() % enum_size<transport>),
                  int(g() % enum_size<first_bytes>),
                  1 + int(g() % 3),
                  int(g() % enum_size<init_packet>)};
  }
  std::printf(
      "classify() and step(), ns per call (4096 random observations, configurations and arrivals, 2M\n"
      "calls each, step() called as the receiver calls it, the thread's CPU time, best of 3:\n"
      "steady on a busy machine); classify through the compiled array against first-match over the rows\n"
      "in the same run:\n");
  constexpr int calls = 2'000'000;
  // The fastest of three runs of `loop`, in the thread's CPU time per call.
  const auto per_call = [](const auto& loop) {
    double best = 0;
    for (int round = 0; round < 3; ++round) {
      const double t0 = thread_cpu();
      loop();
      const double ns = (thread_cpu() - t0) * 1e9 / calls;
      best = round == 0 ? ns : std::min(best, ns);
    }
    return best;
  };
  const auto time_classify = [&](const table& t) {
    return per_call([&] {
      volatile int sink = 0;
      for (int i = 0; i < calls; ++i) sink = sink + static_cast<int>(classify(t, obs[i & 4095]).then);
    });
  };
  double worst_c = 0, worst_s = 0;
  for (const table* t : builtin_tables) {
    table rows_only = *t;
    rows_only.compiled = nullptr;
    const double rows_ns = time_classify(rows_only), c_ns = time_classify(*t);
    const double s_ns = per_call([&] {
      auto s = fresh_state<concrete_domain>();
      const auto fresh = fresh_state<concrete_domain>();
      volatile int sink = 0;
      for (int i = 0; i < calls; ++i) {
        const auto& in = steps[i & 4095];
        const auto r = step<concrete_domain>(*t, in.config, (i & 7) ? s : fresh, in.channel);
        // Copied whole, as the receiver keeps its state (decider: state_ = r.next). How the loop
        // around step() moves the state decides whether wide loads wait on narrow stores
        // (store forwarding): 17-50 ns for the same step() in three forms of this loop.
        const auto& n = r.next.aborted || r.next.stalled || r.next.exited ? fresh : r.next;
        std::memcpy(&s, &n, sizeof s);
        sink = sink + r.then;
      }
    });
    worst_c = std::max(worst_c, c_ns), worst_s = std::max(worst_s, s_ns);
    std::printf("  %-10s classify %5.1f ns (rows %5.1f ns, %4.1fx)   step %6.1f ns\n", std::string(t->name).c_str(),
                c_ns, rows_ns, rows_ns / c_ns, s_ns);
  }
  std::printf("  worst: classify %.1f ns (target <= 5), step %.1f ns (target <= 20)\n", worst_c, worst_s);
}

// --- 2. throughput against a bare loop
// Clients: `threads` loops of connect, send 4 garbage bytes, wait for the close.
double drive(const uri& to, int total, int threads) {
  std::atomic<int> next{0};
  std::vector<std::thread> ts;
  const auto t0 = steady::now();
  for (int k = 0; k < threads; ++k)
    ts.emplace_back([&] {
      char buf[64];
      while (next.fetch_add(1) < total) {
        auto fd = connect_to(to);
        ::send(fd.get(), "GARB", 4, MSG_NOSIGNAL);
        while (::recv(fd.get(), buf, sizeof buf, 0) > 0) {
        }
      }
    });
  for (auto& t : ts) t.join();
  return total / secs(steady::now() - t0);
}

// The floor: accept, peek until 4 bytes or EOF, close. Same loop, no table.
struct bare_server {
  event_loop loop;
  unique_fd listener, wake{::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
  uri addr;
  std::unordered_map<int, unique_fd> conns;
  explicit bare_server(const uri& u) : listener(listen_on(u, 1024)), addr(u) {
    if (addr.kind == uri_kind::tcp) addr.port = local_port(listener.get());
    loop.add(wake.get(), EPOLLIN, [this](std::uint32_t) { loop.stop(); });
    loop.add(listener.get(), EPOLLIN, [this](std::uint32_t) {
      for (int i = 0; i < 64; ++i) {
        auto fd = accept_nonblocking(listener.get());
        if (!fd) return;
        const int n = fd.get();
        conns.emplace(n, std::move(fd));
        loop.add(n, EPOLLIN | EPOLLRDHUP | EPOLLET, [this, n](std::uint32_t) { peek(n); });
        peek(n);
      }
    });
  }
  void peek(int n) {
    char buf[8];
    const auto got = ::recv(n, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (got >= 4 || got == 0 || (got < 0 && errno != EAGAIN)) {
      loop.remove(n);
      conns.erase(n);
    }
  }
  void run() { loop.run_until(steady::now() + 1h); }
  void stop() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wake.get(), &one, sizeof one);
  }
};

void bench_throughput(const std::string& which, const std::string& address, int total, int threads) {
  const auto u = parse_uri(address);
  enum server_kind { bare, serve, serve_json };
  double best[3] = {0, 0, 0};
  const auto run_one = [&](server_kind k) {
    if (k == bare) {
      bare_server b(u);
      std::thread t([&] { b.run(); });
      best[k] = std::max(best[k], drive(b.addr, total, threads));
      b.stop();
      t.join();
      return;
    }
    serve_options o;
    o.classifier = &classifiers::reference;
    o.config = parse_caps("", 2);
    o.listen = u;
    o.order = order_mode::accept;
    std::FILE* devnull = k == serve_json ? std::fopen("/dev/null", "w") : nullptr;
    log_sink sink;
    if (devnull)
      sink = {[devnull](std::string_view line) {
                std::fwrite(line.data(), 1, line.size(), devnull);
                std::fputc('\n', devnull);
              },
              [devnull] { std::fflush(devnull); }};
    receiver r(o, sink);
    std::thread t([&] { r.run(); });
    best[k] = std::max(best[k], drive(r.address(), total, threads));
    r.stop();
    t.join();
    if (devnull) std::fclose(devnull);
  };
  // Each round starts with a different server: over tcp every run leaves its connections in
  // TIME_WAIT and the kernel's port search grows with them, so a fixed order would favour the
  // server that always runs first. Five rounds: the ratio is of two bests, and with three a
  // single slow run of one server still moved it by 0.1.
  for (int round = 0; round < 5; ++round)
    for (int i = 0; i < 3; ++i) run_one(static_cast<server_kind>((round + i) % 3));
  const double best_bare = best[bare], best_serve = best[serve], best_serve_json = best[serve_json];
  std::printf(
      "  %-5s bare accept+peek+close %8.0f conn/s   serve (reference) %8.0f conn/s  ratio %.2f (target >= 0.95)"
      "   with JSON log %8.0f conn/s  ratio %.2f (target >= 0.9)\n",
      which.c_str(), best_bare, best_serve, best_serve / best_bare, best_serve_json, best_serve_json / best_bare);
}

// --- 3. accept-to-decision latency, 1,000 connections at once
void bench_latency(order_mode order) {
  serve_options o;
  o.classifier = &classifiers::reference;
  o.config = parse_caps("", 2);
  o.listen = parse_uri("tcp:127.0.0.1:0");
  o.order = order;
  std::mutex m;
  std::vector<double> waited;
  receiver r(o, [&](std::string_view text) {
    const auto j = json_line::parse(text);
    if (!j.contains("decision")) return;
    std::lock_guard l(m);
    waited.push_back(j["waited"].get<double>());
  });
  std::thread t([&] { r.run(); });
  // Four clients open 250 connections each as fast as they can, each sending its
  // 4 bytes at once and staying open: a burst of 1,000 concurrent connections.
  std::vector<std::vector<unique_fd>> clients(4);
  std::vector<std::thread> ts;
  for (auto& mine : clients)
    ts.emplace_back([&r, &mine] {
      for (int i = 0; i < 250; ++i) {
        mine.push_back(connect_to(r.address()));
        ::send(mine.back().get(), "GARB", 4, MSG_NOSIGNAL);
      }
    });
  for (auto& x : ts) x.join();
  const auto until = steady::now() + 30s;
  for (;;) {
    {
      std::lock_guard l(m);
      if (waited.size() >= 1000) break;
    }
    if (steady::now() > until) break;
    std::this_thread::sleep_for(1ms);
  }
  r.stop();
  t.join();
  std::sort(waited.begin(), waited.end());
  const auto pct = [&](double p) {
    return waited.empty() ? 0.0 : waited[static_cast<std::size_t>(p * (waited.size() - 1))];
  };
  std::printf("  --order %-6s %zu decisions  p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms\n",
              std::string(name(order)).c_str(), waited.size(), pct(0.5) * 1e3, pct(0.99) * 1e3, pct(1.0) * 1e3);
}

// --- 4. soak: 10,000 abandoned connections while the receiver is short of descriptors
// The clients run in a child process (this program again), so that only the
// receiver's descriptors are scarce.
int soak_client(const uri& to) {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &r);
  int opened = 0;
  while (opened < 10000) {
    std::vector<unique_fd> batch;  // 150 held at once, then all abandoned
    for (int i = 0; i < 150 && opened < 10000; ++i, ++opened) batch.push_back(connect_to(to));
  }
  return opened == 10000 ? 0 : 1;
}

void bench_soak(const char* self) {
  serve_options o;
  o.classifier = &classifiers::reference;
  o.config = parse_caps("multifd", 2);
  o.listen = parse_uri("tcp:127.0.0.1:0");
  o.order = order_mode::data;
  o.peek_timeout = 60s;  // nothing is parked: every connection ends by its client's close
  std::atomic<std::size_t> decisions{0}, paused{0}, mains{0};
  receiver r(o, [&](std::string_view text) {
    const auto j = json_line::parse(text);
    if (j.contains("decision")) {
      ++decisions;
      if (j["decision"] == "main") ++mains;
    }
    if (j.contains("event") && j["event"] == "accept_paused") ++paused;
  });
  std::thread t([&] { r.run(); });
  const auto baseline = open_fds();
  rlimit old{};
  ::getrlimit(RLIMIT_NOFILE, &old);
  rlimit tight = old;
  constexpr std::size_t spare = 64;
  tight.rlim_cur = baseline + spare;
  ::setrlimit(RLIMIT_NOFILE, &tight);
  const auto t0 = steady::now();
  const auto addr = to_string(r.address());
  const char* argv[] = {self, "soak-client", addr.c_str(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, const_cast<char* const*>(argv), environ);
  int status = -1;
  if (rc == 0) ::waitpid(pid, &status, 0);
  ::setrlimit(RLIMIT_NOFILE, &old);
  auto good = connect_to(r.address());
  const auto mb = minimal_main_stream();
  ::send(good.get(), mb.data(), mb.size(), MSG_NOSIGNAL);
  const auto until = steady::now() + 60s;
  while (mains.load() == 0 && steady::now() < until) std::this_thread::sleep_for(1ms);
  good.reset();
  while ((decisions.load() < 10001 || open_fds() != baseline) && steady::now() < until)
    std::this_thread::sleep_for(5ms);
  const double took = secs(steady::now() - t0);
  std::printf(
      "  10,000 opened (150 at a time) and abandoned by a child, the receiver with %zu spare descriptors: "
      "client exit %d, %zu decided, accept paused %zu times, good main %s, descriptors %+ld from baseline, "
      "%.2f s\n",
      spare, rc == 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, decisions.load(), paused.load(),
      mains.load() ? "served" : "NOT served", static_cast<long>(open_fds()) - static_cast<long>(baseline), took);
  r.stop();
  t.join();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "soak-client") return soak_client(parse_uri(argv[2]));
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::signal(SIGPIPE, SIG_IGN);
  bench_classify();
  if (argc == 2 && std::string(argv[1]) == "classify") return 0;  // just the figures above
  std::printf("\nthroughput, 4 client threads, best of 5 (serve logs nothing unless said):\n");
  const auto sock = (std::filesystem::temp_directory_path() / ("migchan-bench-" + std::to_string(::getpid()))).string();
  bench_throughput("unix", "unix:" + sock, 20000, 4);
  // 15,000 tcp connections (about 0.35 s a run) so that one run's noise does not decide the ratio;
  // each server's port is new, and Linux's 28,000 ephemeral ports per destination bound it.
  bench_throughput("tcp", "tcp:127.0.0.1:0", 15000, 4);
  std::filesystem::remove(sock);
  std::printf("\naccept-to-decision, a burst of 1,000 concurrent connections each sending 4 bytes (reference):\n");
  bench_latency(order_mode::accept);
  bench_latency(order_mode::data);
  std::printf("\nsoak:\n");
  bench_soak(argv[0]);
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  std::printf("\npeak RSS %.1f MiB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  return 0;
}
