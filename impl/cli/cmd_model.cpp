// `migchan show` and `migchan classify`: a table's rows, and one decision.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <type_traits>
#include <iostream>
#include <vector>

#include "impl/cli/classifier_arg.h"
#include "impl/cli/cli.h"
#include "model/builtin.h"
#include "model/render.h"
#include "proofs/c_writer.h"

namespace migchan::cli {

namespace {

template <class E> E enum_arg(const std::string& flag, const std::string& v) {
  if (auto e = parse_enum<E>(v)) return *e;
  throw usage_error("bad value '" + v + "' for " + flag + " (one of: " + join(enum_traits<E>::names) + ")");
}

std::string flag_of(field f) {
  std::string s(info(f).name);
  for (auto& c : s)
    if (c == '_') c = '-';
  return "--" + s;
}

// The flag at fault in an observation valid() refuses, and what it needs: each set
// flag alone is tried, and the fewest other flags that make it valid are what it needs.
std::string inconsistency(const table& t, const observation& o) {
  using generic = basic_observation<concrete_domain>;
  std::vector<field> flags;
  for (std::size_t i = 0; i < field_count; ++i)
    if (info(static_cast<field>(i)).boolean()) flags.push_back(static_cast<field>(i));
  const auto with = [](generic g, const std::vector<field>& on) {
    for_each_field(g, [&](field f, auto& v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, bool>)
        if (std::find(on.begin(), on.end(), f) != on.end()) v = true;
    });
    return g;
  };
  generic bare = o.generic();
  for_each_field(bare, [](field, auto& v) {
    if constexpr (std::is_same_v<std::decay_t<decltype(v)>, bool>) v = false;
  });
  std::vector<field> set;
  const auto given = o.generic();
  for_each_field(given, [&](field f, const auto& v) {
    if constexpr (std::is_same_v<std::decay_t<decltype(v)>, bool>)
      if (v) set.push_back(f);
  });
  for (const field f : set) {
    if (valid<concrete_domain>(t, with(bare, {f}))) continue;
    std::vector<field> others;
    for (const field g : flags)
      if (g != f) others.push_back(g);
    std::optional<std::vector<field>> needs;
    for (unsigned mask = 1; mask < (1u << others.size()); ++mask) {
      std::vector<field> pick{f};
      for (std::size_t i = 0; i < others.size(); ++i)
        if ((mask >> i) & 1u) pick.push_back(others[i]);
      if (valid<concrete_domain>(t, with(bare, pick)) && (!needs || pick.size() - 1 < needs->size()))
        needs = std::vector<field>(pick.begin() + 1, pick.end());
    }
    if (!needs) return flag_of(f) + " cannot be set with --transport " + std::string(name(o.transport));
    bool missing = false;
    std::string list;
    for (const field n : *needs) {
      missing = missing || std::find(set.begin(), set.end(), n) == set.end();
      list += (list.empty() ? "" : " and ") + flag_of(n);
    }
    if (missing) return flag_of(f) + " needs " + list;
  }
  return describe(o);
}

}  // namespace

action add_show(CLI::App& app) {
  auto* sub = app.add_subcommand("show", "print a classifier's rules: id, guard, decision, upstream reference");
  auto name = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("text");
  auto list = std::make_shared<bool>(false);
  sub->add_option("classifier", *name, "a built-in classifier or a C file");
  sub->add_flag("--list", *list, "name every built-in classifier");
  one_of(sub->add_option("--format", *format,
                         "text, json, markdown, or c (a migration/channel.c that `check` reads "
                         "back)"),
         {"text", "json", "markdown", "c"});
  return [=] {
    if (*list) {
      if (!name->empty()) throw usage_error("show takes a classifier or --list, not both");
      if (*format == "c") throw usage_error("--format c shows one classifier, not --list");
      if (*format == "json") {
        auto j = nlohmann::ordered_json::array();
        for (const table* t : builtin_tables)
          j.push_back({{"name", std::string(t->name)}, {"summary", std::string(t->summary)}});
        std::cout << j.dump(2) << "\n";
      } else if (*format == "markdown") {
        std::cout << "| classifier | summary |\n|---|---|\n";
        for (const table* t : builtin_tables) std::cout << "| `" << t->name << "` | " << t->summary << " |\n";
      } else {
        for (const table* t : builtin_tables)
          std::printf("%-10s %s\n", std::string(t->name).c_str(), std::string(t->summary).c_str());
      }
      return exit_ok;
    }
    if (name->empty()) throw usage_error("show needs a classifier name or --list");
    const auto c = resolve_classifier(*name);
    const table& t = *c.t;
    if (*format == "json") std::cout << to_json(t).dump(2) << "\n";
    else if (*format == "markdown") std::cout << render_markdown(t);
    else if (*format == "c") {
      try {
        std::cout << write_c(t);
      } catch (const c_writer_error& e) {
        throw usage_error(e.what());
      }
    } else std::cout << render_text(t);
    return exit_ok;
  };
}

action add_classify(CLI::App& app) {
  auto* sub = app.add_subcommand("classify", "decide one incoming channel with a classifier");
  struct args {
    std::string classifier, transport = "socket", state = "setup", magic = "vm_file_magic", format = "text";
    bool multifd = false, postcopy_ram = false, postcopy_preempt = false, mapped_ram = false;
    bool has_main = false, all_multifd = false, has_preempt = false;
  };
  auto a = std::make_shared<args>();
  add_classifier(sub, a->classifier);
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
  one_of(sub->add_option("--format", a->format, "text or json"), {"text", "json"});
  return [=] {
    const auto c = resolve_classifier(a->classifier);
    const table& t = *c.t;
    observation o;
    o.multifd = a->multifd, o.postcopy_ram = a->postcopy_ram, o.postcopy_preempt = a->postcopy_preempt;
    o.mapped_ram = a->mapped_ram, o.has_main = a->has_main, o.all_multifd = a->all_multifd;
    o.has_preempt = a->has_preempt;
    o.transport = enum_arg<transport>("--transport", a->transport);
    o.state = enum_arg<mig_status>("--state", a->state);
    o.magic = enum_arg<first_bytes>("--magic", a->magic);
    for (const auto& f : t.forbids)
      if (matches<concrete_domain>(f.when, o.generic()))
        throw usage_error(std::string(t.name) + " refuses this configuration (" + std::string(f.id) +
                          "): " + std::string(f.text));
    if (!valid<concrete_domain>(t, o.generic())) throw usage_error("inconsistent observation: " + inconsistency(t, o));
    const auto d = classify(t, o);
    if (a->format == "json") {
      nlohmann::json j{{"classifier", std::string(t.name)},
                       {"observation", to_json(o)},
                       {"decision", std::string(name(d.then))},
                       {"reads", std::string(name(d.cost))}};
      j["rule"] = d.fired ? to_json(*d.fired) : nlohmann::json(nullptr);
      std::cout << j.dump(2) << "\n";
      return d.fired ? exit_ok : exit_finding;
    }
    if (!d.fired) {
      std::printf("no rule matched: %s\n", describe(o).c_str());
      return exit_finding;
    }
    const rule& r = *d.fired;
    std::printf("%s%s", std::string(name(d.then)).c_str(), r.implicit_default ? " (implicit default)" : "");
    if (!r.text.empty()) std::printf(": \"%s\"", std::string(r.text).c_str());
    std::printf("\n  rule     %s (reads %s)\n  guard    %s\n  C        %s\n  upstream %s %s\n",
                std::string(r.id).c_str(), std::string(name(d.cost)).c_str(), describe(r.when).c_str(),
                std::string(r.c).c_str(), std::string(r.ref.commit).c_str(), std::string(r.ref.where).c_str());
    return exit_ok;
  };
}

}  // namespace migchan::cli
