// Rendering a documented config file from the schema table: the sample in
// etc/ and the file `mailctl init` writes are both this output, so every
// key is always present with its doc, and the text always loads.
#include <sstream>

#include "common/base/assert.h"
#include "common/config/config.h"
#include "common/config/schema.h"

namespace postern::config {
namespace {

using nlohmann::json;

constexpr std::size_t kWrapColumn = 100;

constexpr std::string_view kHeader =
    "// Postern configuration: JSON, with // and /* */ comments allowed.\n"
    "//\n"
    "// Generated from the schema table in common/config/schema.cpp, which documents\n"
    "// every key. Every key is optional: one left out takes the default named in its\n"
    "// comment, and an unknown key is an error. Relative paths are resolved against\n"
    "// the directory that holds this file. Programs find this file through -c FILE,\n"
    "// else the POSTERN_CONFIG environment variable, else /etc/postern/postern.json.\n";

// Compact JSON, but with a space after each comma in lists, as people write.
std::string render_value(const json& v) {
    if (!v.is_array()) return v.dump();
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i)
        out += (i == 0 ? "" : ", ") + v[i].dump();
    return out + "]";
}

void wrap_comment(std::string_view text, std::string_view indent, std::string& out) {
    const std::size_t width = kWrapColumn - indent.size() - 3;
    std::string line;
    std::istringstream words{std::string(text)};
    for (std::string word; words >> word;) {
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            out += std::string(indent) + "// " + line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) out += std::string(indent) + "// " + line + "\n";
}

std::string field_doc(const Field& f) {
    std::string doc(f.doc);
    if (f.type == FieldType::Uint)
        doc += " Range: " + std::to_string(f.min) + " to " + std::to_string(f.max) + ".";
    if (f.type == FieldType::Enum) {
        doc += " One of:";
        for (std::size_t i = 0; i < f.choices.size(); ++i)
            doc += (i == 0 ? " " : ", ") + std::string(f.choices[i]);
        doc += ".";
    }
    return doc + " Default: " + render_value(json::parse(f.default_json)) + ".";
}

const json* override_for(const json& overrides, std::string_view key) {
    const std::string section(section_of(key));
    const json* scope = &overrides;
    if (!section.empty()) {
        const auto it = overrides.find(section);
        if (it == overrides.end()) return nullptr;
        scope = &*it;
    }
    const auto it = scope->find(std::string(name_of(key)));
    return it == scope->end() ? nullptr : &*it;
}

// One member line (with its comment), and a comma unless it closes its object.
void render_field(const Field& f, const json& overrides, bool last, std::string& out) {
    const std::string_view indent = section_of(f.bind.key).empty() ? "    " : "        ";
    wrap_comment(field_doc(f), indent, out);
    const json* given = override_for(overrides, f.bind.key);
    const std::string value = render_value(given != nullptr ? *given : json::parse(f.default_json));
    out += std::string(indent) + json(std::string(name_of(f.bind.key))).dump() + ": " + value +
           (last ? "\n" : ",\n");
}

std::string render_unchecked(const json& overrides) {
    std::string out(kHeader);
    out += "{\n";
    const auto all = fields();
    for (std::size_t i = 0; i < all.size(); ++i) {
        const std::string_view section = section_of(all[i].bind.key);
        const bool opens =
            !section.empty() && (i == 0 || section_of(all[i - 1].bind.key) != section);
        if (opens) {
            out += "\n";
            const Section* s = find_section(section);
            POSTERN_ASSERT(s != nullptr);
            wrap_comment(s->doc, "    ", out);
            out += "    " + json(std::string(section)).dump() + ": {\n";
        }
        const bool closes = i + 1 == all.size() || section_of(all[i + 1].bind.key) != section;
        const bool last_top = i + 1 == all.size();
        render_field(all[i], overrides, section.empty() ? last_top : closes, out);
        if (!section.empty() && closes) out += last_top ? "    }\n" : "    },\n";
    }
    return out + "}\n";
}

}  // namespace

Result<std::string> render_config(const json& overrides) {
    if (!overrides.is_object())
        return fail(std::string("overrides must be a JSON object, got ") + overrides.type_name());
    std::vector<std::string> errors;
    find_unknown_keys(overrides, errors);
    if (!errors.empty()) return fail(errors.front());
    std::string text = render_unchecked(overrides);
    // Check the result as the daemons will read it; "/" only anchors
    // relative paths and is never touched.
    auto loaded = load_text(text, "/");
    if (!loaded) return fail(loaded.error());
    return text;
}

std::string render_sample() {
    auto text = render_config(json::object());
    POSTERN_ASSERT(text.ok());  // the schema's own defaults must load
    return std::move(text).value();
}

}  // namespace postern::config
