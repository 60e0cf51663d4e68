#include "impl/cli/cli_doc.h"

#include <map>
#include <sstream>
#include <string_view>

#include "impl/cli/cli.h"
#include "model/builtin.h"

namespace migchan::cli {

namespace {

// What exit codes 0 and 1 mean for each subcommand; 2 and 3 mean the same everywhere.
struct exit_meaning {
  std::string_view command, ok, finding;
};
constexpr exit_meaning exit_meanings[] = {
    {"show", "the rows were printed", "-"},
    {"classify", "a row decided the channel", "no row matched (a gap in the table)"},
    {"verify", "every result is as upstream history says (model/expectations.h)",
     "a result is not (UNEXPECTED in the output)"},
    {"serve", "the destination ended neither stalled, aborted nor failed",
     "it ended stalled, aborted or failed (main's stream refused)"},
    {"replay", "every connection was accepted", "a connection after the first was refused or not accepted in time"},
    {"proxy", "the run ended (with --order: the trace's order was followed)",
     "with --order: the trace's order could not be followed"},
    {"check", "every property holds", "a property is refuted or a single-arrival check fails"},
    {"diff", "the two classifiers are equivalent", "they differ"},
    {"conform", "every scenario agrees with the model", "a scenario disagrees"},
};

const exit_meaning* meaning_of(std::string_view command) {
  for (const auto& m : exit_meanings)
    if (m.command == command) return &m;
  return nullptr;
}

constexpr std::string_view general[] = {
    "0  nothing to report: proved, as expected, agree",
    "1  a finding: refuted, unexpected, mismatch, disagree",
    "2  bad input or an I/O error: one line on stderr names the problem and where",
    "3  Z3 answered unknown: a property could be neither proved nor refuted",
};

// roff: a backslash is \e, a minus \-, and a line must not start with . or '.
std::string roff(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string option_synopsis(const CLI::Option& o) {
  if (o.get_positional()) return o.get_name(true);
  std::string s = o.get_name(false, true);
  if (o.get_expected_min() > 0) s += " " + (o.get_type_name().empty() ? std::string("VALUE") : o.get_type_name());
  return s;
}

std::vector<const CLI::Option*> documented(CLI::App& sub) {
  std::vector<const CLI::Option*> out;
  for (const auto* o : sub.get_options())
    if (o != sub.get_help_ptr() && o != sub.get_help_all_ptr()) out.push_back(o);
  return out;
}

}  // namespace

void add_exit_footers(CLI::App& app) {
  for (auto* s : app.get_subcommands({}))
    if (const auto* m = meaning_of(s->get_name())) {
      std::string f = "Exit code 0: " + std::string(m->ok) + ".";
      if (m->finding != "-") f += " 1: " + std::string(m->finding) + ".";
      s->footer(f + " 2: bad input or an I/O error (one line on stderr).");
    }
}

std::string exit_codes_text(CLI::App& app) {
  std::ostringstream o;
  for (const auto& g : general) o << g << "\n";
  o << "\n";
  std::size_t w = 0;
  for (const auto* s : app.get_subcommands({})) w = std::max(w, s->get_name().size());
  for (const auto* s : app.get_subcommands({})) {
    const auto* m = meaning_of(s->get_name());
    if (!m) continue;
    std::string n = s->get_name();
    n.resize(w, ' ');
    o << n << "  0 " << m->ok << "\n";
    if (m->finding != "-") o << std::string(w, ' ') << "  1 " << m->finding << "\n";
  }
  return o.str();
}

std::string man_page(CLI::App& app) {
  std::ostringstream o;
  o << ".TH MIGCHAN 1 \"\" \"migchan " << MIGCHAN_VERSION << "\" \"User Commands\"\n"
    << ".SH NAME\nmigchan \\- " << roff(app.get_description().substr(app.get_description().find(": ") + 2)) << "\n"
    << ".SH SYNOPSIS\n.B migchan\n.I subcommand\n[\\fIoptions\\fR]\n.br\n.B migchan help\n"
    << "[\\fIsubcommand\\fR|\\fBexit\\-codes\\fR]\n.br\n.B migchan \\-\\-version\n"
    << ".SH DESCRIPTION\nThis page is generated from the help each subcommand prints "
    << "(\\fBmigchan help\\fR \\fIsubcommand\\fR).\n.SH SUBCOMMANDS\n";
  for (auto* s : app.get_subcommands({})) {
    o << ".SS \"migchan " << roff(s->get_name());
    for (const auto* opt : documented(*s))
      if (opt->get_positional())
        o << " " << (opt->get_required() ? "" : "[") << roff(opt->get_name(true)) << (opt->get_required() ? "" : "]");
    o << " [options]\"\n" << roff(s->get_description()) << "\n";
    for (const auto* opt : documented(*s)) {
      o << ".TP\n.B " << roff(option_synopsis(*opt)) << "\n" << roff(opt->get_description()) << "\n";
    }
    if (!s->get_footer().empty()) o << ".PP\n" << roff(s->get_footer()) << "\n";
  }
  o << ".SH EXIT STATUS\n";
  for (const auto& g : general) o << ".TP\n.B " << g.substr(0, 1) << "\n" << roff(g.substr(3)) << "\n";
  o << ".SH SEE ALSO\nREADME.md and docs/ in the source tree: docs/runtime.md for serve, replay and proxy, "
    << "docs/checking\\-a\\-patch.md for check and diff, docs/conform.md for conform.\n";
  return o.str();
}

std::string bash_completion(CLI::App& app) {
  std::string builtins;
  for (const table* t : builtin_tables) builtins += (builtins.empty() ? "" : " ") + std::string(t->name);
  std::ostringstream o;
  o << "# bash completion for migchan (generated by `migchan help completion`)\n"
    << "_migchan() {\n"
    << "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} words\n"
    << "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n    words=\"help --help --version";
  for (const auto* s : app.get_subcommands({})) o << " " << s->get_name();
  o << "\"\n    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n    return\n  fi\n"
    << "  case $prev in\n"
    << "    --classifier|--base) COMPREPLY=($(compgen -W \"" << builtins << "\" -- \"$cur\") "
    << "$(compgen -f -X '!*.c' -- \"$cur\") $(compgen -d -- \"$cur\")); return ;;\n"
    << "  esac\n"
    << "  case ${COMP_WORDS[1]} in\n"
    << "    help) words=\"";
  std::string help_words;
  for (const auto* s : app.get_subcommands({})) help_words += (help_words.empty() ? "" : " ") + s->get_name();
  for (const auto& t : help_topics) help_words += std::string(" ") + t.name;
  o << help_words << "\" ;;\n";
  for (auto* s : app.get_subcommands({})) {
    o << "    " << s->get_name() << ") words=\"--help";
    for (const auto* opt : documented(*s))
      for (const auto& l : opt->get_lnames()) o << " --" << l;
    o << "\" ;;\n";
  }
  o << "    *) return ;;\n  esac\n"
    << "  if [[ $cur == -* || ${COMP_WORDS[1]} == help ]]; then\n"
    << "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
    << "  else\n    COMPREPLY=($(compgen -f -- \"$cur\"))\n  fi\n"
    << "}\ncomplete -o filenames -F _migchan migchan\n";
  return o.str();
}

}  // namespace migchan::cli
