// Tables and observations for people (aligned text, Markdown) and for tools
// (JSON). Everything is generated from the rows; nothing here restates a rule.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/table.h"

namespace migchan {

std::string describe(const guard& g);        // "mm_done=no peekable=yes magic=vm_file_magic"
std::string describe(const observation& o);  // every field, "name=value" separated by spaces
nlohmann::json to_json(const guard& g);  // {"mm_done": ["no"], "magic": ["vm_file_magic"], ...}; any columns omitted
nlohmann::json to_json(const rule& r);
nlohmann::json to_json(const table& t);
nlohmann::json to_json(const observation& o);
std::string render_text(const table& t);      // aligned, one row per rule, the C condition beside it
std::string render_markdown(const table& t);  // docs/model.md

}  // namespace migchan
