// `migchan show` and `migchan classify`: a table's rows, and one decision.
#include <cstdio>
#include <iostream>
#include <vector>

#include "impl/cli.h"
#include "model/builtin.h"
#include "model/render.h"
#include "proofs/c_writer.h"

namespace migchan::cli {

namespace {

const table& builtin_or_throw(const std::string& n) {
  if (const table* t = find_builtin(n)) return *t;
  std::vector<std::string_view> known;
  for (const table* t : builtin_tables) known.push_back(t->name);
  throw usage_error("unknown classifier '" + n + "' (built-in: " + join(known) + ")");
}

template <class E> E enum_arg(const std::string& flag, const std::string& v) {
  if (auto e = parse_enum<E>(v)) return *e;
  throw usage_error("bad value '" + v + "' for " + flag + " (one of: " + join(enum_traits<E>::names) + ")");
}

void check_format(const std::string& f) {
  if (f != "text" && f != "json") throw usage_error("bad value '" + f + "' for --format (one of: text, json)");
}

}  // namespace

action add_show(CLI::App& app) {
  auto* sub = app.add_subcommand("show", "print a classifier's rules: id, guard, decision, upstream reference");
  auto name = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("text");
  auto list = std::make_shared<bool>(false);
  sub->add_option("classifier", *name, "built-in classifier");
  sub->add_flag("--list", *list, "name every built-in classifier");
  sub->add_option("--format", *format, "text, json, markdown, or c (a migration/channel.c that `check` reads back)");
  return [=] {
    if (*list) {
      for (const table* t : builtin_tables)
        std::printf("%-10s %s\n", std::string(t->name).c_str(), std::string(t->summary).c_str());
      return 0;
    }
    if (name->empty()) throw usage_error("show needs a classifier name or --list");
    const table& t = builtin_or_throw(*name);
    if (*format == "json") std::cout << to_json(t).dump(2) << "\n";
    else if (*format == "markdown") std::cout << render_markdown(t);
    else if (*format == "text") std::cout << render_text(t);
    else if (*format == "c") {
      try {
        std::cout << write_c(t);
      } catch (const c_writer_error& e) {
        throw usage_error(e.what());
      }
    } else throw usage_error("bad value '" + *format + "' for --format (one of: text, json, markdown, c)");
    return 0;
  };
}

action add_classify(CLI::App& app) {
  auto* sub = app.add_subcommand("classify", "decide one incoming channel with a classifier");
  struct args {
    std::string classifier = "reference", transport = "socket", state = "setup", magic = "vm_file_magic",
                format = "text";
    bool multifd = false, postcopy_ram = false, postcopy_preempt = false, mapped_ram = false;
    bool has_main = false, all_multifd = false, has_preempt = false;
  };
  auto a = std::make_shared<args>();
  sub->add_option("--classifier", a->classifier, "built-in classifier (default: reference)");
  sub->add_flag("--multifd", a->multifd, "destination has the multifd capability");
  sub->add_flag("--postcopy-ram", a->postcopy_ram, "destination has postcopy-ram");
  sub->add_flag("--postcopy-preempt", a->postcopy_preempt, "destination has postcopy-preempt");
  sub->add_flag("--mapped-ram", a->mapped_ram, "destination has mapped-ram");
  sub->add_option("--transport", a->transport, "socket, fd, tls, file or exec");
  sub->add_flag("--has-main", a->has_main, "mis->from_src_file is set");
  sub->add_flag("--all-multifd", a->all_multifd, "every multifd channel is registered");
  sub->add_flag("--has-preempt", a->has_preempt, "mis->postcopy_qemufile_dst is set");
  sub->add_option("--state", a->state, "destination MigrationStatus, e.g. setup, postcopy-paused");
  sub->add_option("--magic", a->magic,
                  "first bytes: vm_file_magic, multifd_magic, vm_command, ram_page, silent, eof, other");
  sub->add_option("--format", a->format, "text or json");
  return [=] {
    check_format(a->format);
    const table& t = builtin_or_throw(a->classifier);
    observation o;
    o.multifd = a->multifd, o.postcopy_ram = a->postcopy_ram, o.postcopy_preempt = a->postcopy_preempt;
    o.mapped_ram = a->mapped_ram, o.has_main = a->has_main, o.all_multifd = a->all_multifd;
    o.has_preempt = a->has_preempt;
    o.transport = enum_arg<transport>("--transport", a->transport);
    o.state = enum_arg<mig_status>("--state", a->state);
    o.magic = enum_arg<first_bytes>("--magic", a->magic);
    for (const auto& f : t.forbids)
      if (matches<concrete_domain>(f.when, o.generic()))
        throw usage_error(std::string(t.name) + " refuses this configuration (" + std::string(f.id) + "): " +
                          std::string(f.text));
    if (!valid<concrete_domain>(t, o.generic()))
      throw usage_error("inconsistent observation: --postcopy-preempt needs --postcopy-ram, --all-multifd needs "
                        "--multifd, --has-preempt needs --postcopy-preempt");
    const auto d = classify(t, o);
    if (a->format == "json") {
      nlohmann::json j{{"classifier", std::string(t.name)}, {"observation", to_json(o)},
                       {"decision", std::string(name(d.then))}, {"reads", std::string(name(d.cost))}};
      j["rule"] = d.fired ? to_json(*d.fired) : nlohmann::json(nullptr);
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    if (!d.fired) {
      std::printf("no rule matched: %s\n", describe(o).c_str());
      return 1;
    }
    const rule& r = *d.fired;
    std::printf("%s%s", std::string(name(d.then)).c_str(), r.implicit_default ? " (implicit default)" : "");
    if (!r.text.empty()) std::printf(": \"%s\"", std::string(r.text).c_str());
    std::printf("\n  rule     %s (reads %s)\n  guard    %s\n  C        %s\n  upstream %s %s\n",
                std::string(r.id).c_str(), std::string(name(d.cost)).c_str(), describe(r.when).c_str(),
                std::string(r.c).c_str(), std::string(r.ref.commit).c_str(), std::string(r.ref.where).c_str());
    return 0;
  };
}

}  // namespace migchan::cli
