// `migchan serve`, `migchan replay` and `migchan proxy`: the runtime over real
// sockets. Bad input is a usage_error (one line, exit 2) before any socket opens.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "impl/cli/classifier_arg.h"
#include "impl/cli/cli.h"
#include "impl/runtime/proxy.h"
#include "impl/runtime/receiver.h"
#include "impl/runtime/replay.h"
#include "impl/runtime/return_path.h"
#include "model/builtin.h"

namespace migchan::cli {

namespace {

uri uri_or_throw(const std::string& flag, const std::string& text) {
  if (text.empty()) throw usage_error(flag + " needs a URI (tcp:HOST:PORT or unix:PATH)");
  try {
    return parse_uri(text);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
}

// A whole number option, taken as typed so that a value out of range is shown as given.
long long number(const std::string& flag, const std::string& text, long long lo, long long hi) {
  long long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::invalid_argument || end != text.data() + text.size())
    throw usage_error("bad value '" + text + "' for " + flag + " (a whole number)");
  if (ec == std::errc::result_out_of_range || v < lo || v > hi)
    throw usage_error(flag + " must be " + std::to_string(lo) + ".." + std::to_string(hi) + ", not " + text);
  return v;
}

dest_cfg config_or_throw(const table& t, const std::string& caps, const std::string& channels_text) {
  const auto channels =
      static_cast<int>(number("--multifd-channels", channels_text, multifd_channels_min, multifd_channels_max));
  dest_cfg c;
  try {
    c = parse_caps(caps, channels);
  } catch (const std::invalid_argument& e) {
    throw usage_error(std::string(e.what()) + " in --caps");
  }
  if (auto why = refusal(t, c)) throw usage_error(*why);
  return c;
}

uuid_bytes uuid_or_throw(const std::string& text) {
  if (text.empty()) return {};
  if (auto u = parse_uuid(text)) return *u;
  throw usage_error("bad value '" + text + "' for --uuid (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
}

// The machine type minimal_main_stream() names by default, read back from its bytes.
std::string default_machine() { return parse_main_header(minimal_main_stream())->machine.value_or(""); }

// A machine type as QEMU names them (pc-i440fx-11.1, pc-q35-7.2, pc): a short [A-Za-z0-9._-] word.
std::string machine_or_throw(const std::string& text) {
  const bool ok = !text.empty() && text.size() <= 64 &&
                  text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                      std::string::npos;
  if (!ok) throw usage_error("bad value '" + text + "' for --machine (a machine type such as pc-i440fx-11.1)");
  return text;
}

ram_layout ram_layout_or_throw(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw usage_error("cannot open --ram-blocks '" + path + "': " + std::strerror(errno));
  try {
    if (auto r = ram_layout_from_log(in)) return *r;
  } catch (const std::invalid_argument& e) {
    throw usage_error("--ram-blocks '" + path + "', " + e.what());
  }
  throw usage_error("--ram-blocks '" + path +
                    "' has no ram_blocks line (the log of a serve run that read a ram setup)");
}

replay_trace trace_or_throw(const std::string& path) {
  try {
    return load_replay_trace(path);
  } catch (const trace_error& e) {
    throw usage_error(e.what());
  }
}

// JSON lines, buffered and flushed whenever the server waits, so that whoever
// follows the log sees each line as soon as the server is idle. A line that
// cannot be written ends the run: "cannot write log '-': Broken pipe".
log_sink open_log(const std::string& path, const std::string& max_mib) {
  const auto cap = static_cast<std::uint64_t>(number("--log-max-mib", max_mib, 0, 1 << 20)) << 20;
  struct file {
    std::FILE* f = nullptr;
    bool owned = false;
    std::string name;
    ~file() {
      if (owned && f) std::fclose(f);
    }
    void check() const {
      if (std::ferror(f)) throw std::runtime_error("cannot write log '" + name + "': " + std::strerror(errno));
    }
  };
  auto out = std::make_shared<file>();
  out->name = path.empty() ? "-" : path;
  if (path.empty() || path == "-") {
    out->f = stdout;
  } else {
    out->f = std::fopen(path.c_str(), "w");
    out->owned = true;
    if (!out->f) throw usage_error("cannot open log '" + path + "': " + std::strerror(errno));
  }
  log_sink sink{[out](std::string_view line) {
                  std::fwrite(line.data(), 1, line.size(), out->f);
                  std::fputc('\n', out->f);
                },
                [out] {
                  if (std::fflush(out->f) != 0) out->check();
                  out->check();
                }};
  sink.cap(cap);
  return sink;
}

// The options serve and proxy share: one field, default and check each. Where the two
// describe one differently (what --listen is for, what --max-connections counts) the
// text is the command's; each adds them where its --help has always listed them.
struct server_args {
  std::string listen, caps, log, log_max = "64", channels = std::to_string(multifd_channels_default);
  std::string peek_timeout = "1000", timeout = "0", max_connections = "1024";

  void add_listen(CLI::App* sub, const std::string& help) { sub->add_option("--listen", listen, help); }
  // --caps and --multifd-channels, for the command's classifier.
  void add_config(CLI::App* sub, const std::string& caps_help, const std::string& for_what) {
    sub->add_option("--caps", caps, caps_help);
    sub->add_option("--multifd-channels", channels, "multifd-channels" + for_what + " (default " + channels + ")");
  }
  void add_log(CLI::App* sub) {
    sub->add_option("--log", log, "JSON lines to FILE (default: stdout)");
    sub->add_option("--log-max-mib", log_max,
                    "MiB of log lines at most (default " + log_max +
                        ", 0: no cap); past it lines are counted, not written, and the summary says how many");
  }
  void add_peek_timeout(CLI::App* sub) {
    sub->add_option("--peek-timeout", peek_timeout, "ms before a connection without first bytes is silent");
  }
  void add_timeout(CLI::App* sub, const std::string& what) {
    sub->add_option("--timeout", timeout, "ms to " + what + " (default: no limit)");
  }
  void add_max_connections(CLI::App* sub, const std::string& what) {
    sub->add_option("--max-connections", max_connections, what + " open at once (default " + max_connections + ")");
  }

  // Each throws usage_error naming its option.
  uri listen_uri() const { return uri_or_throw("--listen", listen); }
  dest_cfg config(const table& t) const { return config_or_throw(t, caps, channels); }
  log_sink sink() const { return open_log(log, log_max); }
  std::chrono::milliseconds peek() const {
    return std::chrono::milliseconds(number("--peek-timeout", peek_timeout, 1, 3600000));
  }
  std::chrono::milliseconds time_limit() const {
    return std::chrono::milliseconds(number("--timeout", timeout, 0, 1LL << 40));
  }
  std::size_t max_open() const {
    return static_cast<std::size_t>(number("--max-connections", max_connections, 1, 1000000));
  }
};

// SIGINT, SIGTERM, SIGHUP and SIGUSR1 end the run the ordinary way, with its summary.
constexpr int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
void (*stop_fn)(void*) = nullptr;
void* stop_arg = nullptr;
extern "C" void on_signal(int) {
  if (stop_fn) stop_fn(stop_arg);
}
// Until the returned guard goes, before the server does.
struct signals_off {
  ~signals_off() { stop_fn = nullptr; }
};
template <class T> [[nodiscard]] signals_off stop_on_signals(T& server) {
  stop_arg = &server;
  stop_fn = [](void* s) { static_cast<T*>(s)->stop(); };
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  for (const int sig : stop_signals) ::sigaction(sig, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return {};
}

// replay's way to stop: the handler writes to an eventfd its loop watches.
struct replay_stop {
  unique_fd fd{::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
  void stop() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(fd.get(), &one, sizeof one);
  }
};

std::chrono::milliseconds ms(long long v) { return std::chrono::milliseconds(v); }

}  // namespace

action add_serve(CLI::App& app) {
  auto* sub = app.add_subcommand("serve", "a reference destination: accept, classify with a table, act on it");
  struct args : server_args {
    std::string classifier, order = "accept", uuid, ram_blocks, trace;
    bool exit_after_complete = false, return_path = false, recovery = false;
  };
  auto a = std::make_shared<args>();
  add_classifier(sub, a->classifier);
  a->add_listen(sub, "tcp:HOST:PORT, tcp:[::1]:PORT or unix:PATH (port 0: any free)");
  a->add_config(sub, capabilities_text({true, true, true, true}, ", ") + " (comma-separated)", "");
  sub->add_option("--trace", a->trace,
                  "take classifier, capabilities, multifd-channels and recovery from this "
                  "replay-form trace, as replaying it needs");
  a->add_log(sub);
  sub->add_option("--order", a->order, "accept (QEMU's, the default) or data");
  a->add_peek_timeout(sub);
  sub->add_option("--uuid", a->uuid, "the destination's uuid for MultiFDInit_t (default all zero)");
  sub->add_flag("--exit-after-complete", a->exit_after_complete, "exit once main has ended and all are closed");
  a->add_max_connections(sub, "connections");
  sub->add_flag("--return-path", a->return_path, "send MIG_RP_MSG_SHUT even if the stream opens no return path");
  sub->add_flag("--recovery", a->recovery, "start postcopy-paused, waiting for a recovering source");
  sub->add_option("--ram-blocks", a->ram_blocks,
                  "with --recovery: the log of the serve run that received the original stream (RAMBlock sizes)");
  a->add_timeout(sub, "serve, then exit with the summary");
  return [=] {
    serve_options o;
    classifier_arg c;
    if (!a->trace.empty()) {
      for (const std::string given : {"--classifier", "--caps", "--multifd-channels", "--recovery"})
        if (sub->count(given)) throw usage_error("--trace gives the configuration: not with " + given);
      const auto t = trace_or_throw(a->trace);
      if (t.transport != transport::socket)
        throw usage_error("trace '" + a->trace + "': transport '" + std::string(name(t.transport)) +
                          "' cannot be served over sockets");
      c = resolve_classifier(t.classifier);
      o.config = t.config;
      o.recovery = t.recovery;
      if (auto why = refusal(*c.t, o.config)) throw usage_error("trace '" + a->trace + "': " + *why);
    } else {
      c = resolve_classifier(a->classifier);
      o.config = a->config(*c.t);
      o.recovery = a->recovery;
    }
    o.classifier = c.t;
    o.listen = a->listen_uri();
    auto order = parse_order(a->order);
    if (!order) throw usage_error("bad value '" + a->order + "' for --order (one of: accept, data)");
    o.order = *order;
    o.peek_timeout = a->peek();
    o.max_connections = a->max_open();
    o.timeout = a->time_limit();
    o.uuid = uuid_or_throw(a->uuid);
    o.exit_after_complete = a->exit_after_complete;
    o.return_path = a->return_path;
    if (o.recovery && !o.config.postcopy_ram) throw usage_error("--recovery needs postcopy-ram in --caps");
    if (!a->ram_blocks.empty()) {
      if (!o.recovery) throw usage_error("--ram-blocks needs --recovery");
      o.ram = ram_layout_or_throw(a->ram_blocks);
    }
    receiver r(std::move(o), a->sink());
    const auto guard = stop_on_signals(r);
    return r.run();
  };
}

action add_replay(CLI::App& app) {
  auto* sub = app.add_subcommand("replay", "open a trace's channels over real sockets and report what the peer did");
  struct args {
    std::string trace, to, uuid, machine, format = "text";
    std::string gap = "10", wait = "1000", connect_timeout = "2000";
  };
  auto a = std::make_shared<args>();
  sub->add_option("trace", a->trace, "replay-form JSON file")->required();
  sub->add_option("--to", a->to, "the destination: tcp:HOST:PORT or unix:PATH");
  sub->add_option("--gap", a->gap, "ms between connections, unless the trace says (default 10)");
  sub->add_option("--wait", a->wait, "ms to watch the connections after the last one opens (default 1000)");
  sub->add_option("--connect-timeout", a->connect_timeout,
                  "ms a connection may take to be accepted (default 2000): a full accept queue never does");
  sub->add_option("--uuid", a->uuid, "the source's uuid in MultiFDInit_t (default all zero)");
  sub->add_option("--machine", a->machine,
                  "machine type in main's configuration section, the destination's own (default " + default_machine() +
                      ")");
  one_of(sub->add_option("--format", a->format, "text or json"), {"text", "json"});
  return [=] {
    const auto t = trace_or_throw(a->trace);
    replay_options o;
    o.to = uri_or_throw("--to", a->to);
    o.gap = ms(number("--gap", a->gap, 0, 600000));
    o.wait = ms(number("--wait", a->wait, 0, 3600000));
    o.connect_timeout = ms(number("--connect-timeout", a->connect_timeout, 1, 3600000));
    o.uuid = uuid_or_throw(a->uuid);
    if (!a->machine.empty()) o.machine = machine_or_throw(a->machine);
    try {
      (void)expand(t, o.uuid, 0);
    } catch (const trace_error& e) {
      throw usage_error("trace '" + a->trace + "': " + e.what());
    }
    std::signal(SIGPIPE, SIG_IGN);
    static replay_stop stopper;
    stop_arg = &stopper;
    stop_fn = [](void* s) { static_cast<replay_stop*>(s)->stop(); };
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    for (const int sig : stop_signals) ::sigaction(sig, &sa, nullptr);
    const signals_off guard;
    o.stop_fd = stopper.fd.get();
    bool interrupted = false;
    const auto out = run_replay(t, o, &interrupted);
    const auto sum = summarize(out, interrupted);
    if (sum.unreachable) throw usage_error(*sum.unreachable);  // nothing listens there: one line, exit 2
    for (const auto& r : out) {
      if (!r.tried) continue;
      const auto& expect = t.arrivals[r.ch.arrival].expect;
      if (a->format == "json") {
        auto j = to_json(r);
        if (expect)
          j["expect"] = {{"decision", std::string(name(expect->decision))},
                         {"rule", expect->rule ? json_line(*expect->rule) : json_line(nullptr)},
                         {"cause", std::string(name(expect->why))}};
        std::cout << j.dump() << "\n";
        continue;
      }
      std::string id = r.ch.multifd_id ? " id " + std::to_string(*r.ch.multifd_id) : "";
      std::printf("%zu. %s%s (%s) ", r.ch.arrival + 1, std::string(name(r.ch.kind)).c_str(), id.c_str(),
                  std::string(name(r.ch.magic)).c_str());
      const bool connected = r.did != peer_did::refused && r.did != peer_did::connect_timeout;
      if (connected) std::printf("sent %zu B: peer %s", r.sent, std::string(name(r.did)).c_str());
      else std::printf("not connected: %s", std::string(name(r.did)).c_str());
      if (r.did != peer_did::open) std::printf(" after %.3f s", r.ended - r.opened);
      if (r.received) std::printf(", received %zu B (%s)", r.received, hex(r.received_head).c_str());
      if (!r.error.empty()) std::printf(" [%s]", r.error.c_str());
      if (expect) std::printf("; expected %s", std::string(name(expect->decision)).c_str());
      std::printf("\n");
    }
    if (a->format == "json") std::cout << json_line{{"summary", to_json(sum)}}.dump() << "\n";
    else std::cout << summary_text(sum) << "\n";
    return sum.exit;
  };
}

action add_proxy(CLI::App& app) {
  auto* sub = app.add_subcommand("proxy", "relay a source to a destination, classifying and optionally reordering");
  struct args : server_args {
    std::string to, order = "natural", classifier, hold_timeout = "5000", gap = "0";
  };
  auto a = std::make_shared<args>();
  a->add_listen(sub, "where the source connects: tcp:HOST:PORT or unix:PATH");
  sub->add_option("--to", a->to, "the destination: tcp:HOST:PORT or unix:PATH");
  sub->add_option("--order", a->order, "natural, or a replay-form TRACE whose arrival order to reproduce");
  sub->add_option("--classifier", a->classifier,
                  "classify on the way with this built-in classifier or C file (default: the trace's)");
  a->add_config(sub, "the destination's capabilities, for --classifier", ", for --classifier");
  a->add_log(sub);
  a->add_peek_timeout(sub);
  sub->add_option("--hold-timeout", a->hold_timeout, "ms without trace progress before relaying the rest as is");
  sub->add_option("--gap", a->gap, "ms between dials in trace order (default 0)");
  a->add_timeout(sub, "run");
  a->add_max_connections(sub, "pairs");
  return [=] {
    proxy_options o;
    o.listen = a->listen_uri();
    o.to = uri_or_throw("--to", a->to);
    if (a->order != "natural") o.order = trace_or_throw(a->order);
    classifier_arg c;
    if (!a->classifier.empty()) {
      c = resolve_classifier(a->classifier);
      o.config = a->config(*c.t);
    } else if (o.order) {
      try {
        c = resolve_classifier(o.order->classifier);
      } catch (const usage_error& e) {
        throw usage_error("trace '" + a->order + "': " + e.what());
      }
      o.config = o.order->config;
      o.recovery = o.order->recovery;
      if (auto why = refusal(*c.t, o.config)) throw usage_error("trace '" + a->order + "': " + *why);
    } else if (!a->caps.empty()) {
      throw usage_error("--caps needs --classifier");
    }
    o.classifier = c.t;
    o.peek_timeout = a->peek();
    o.hold_timeout = ms(number("--hold-timeout", a->hold_timeout, 1, 3600000));
    o.gap = ms(number("--gap", a->gap, 0, 600000));
    o.timeout = a->time_limit();
    o.max_connections = a->max_open();
    proxy p(std::move(o), a->sink());
    const auto guard = stop_on_signals(p);
    return p.run();
  };
}

}  // namespace migchan::cli
