// Invariants of the schema table that the loader and renderer rely on.
#include <algorithm>
#include <set>

#include <doctest/doctest.h>

#include "common/config/schema.h"

namespace postern::config {

TEST_CASE("schema: keys are unique, at most two levels, sections contiguous") {
    std::set<std::string_view> keys;
    std::set<std::string_view> closed_sections;
    std::string_view current;
    bool seen_section = false;
    for (const Field& f : fields()) {
        CAPTURE(f.bind.key);
        CHECK_MESSAGE(keys.insert(f.bind.key).second, "duplicate key");
        CHECK(name_of(f.bind.key).find('.') == std::string_view::npos);
        const std::string_view section = section_of(f.bind.key);
        if (section.empty()) {
            CHECK_MESSAGE(!seen_section, "top-level keys must come before the sections");
            CHECK_MESSAGE(find_section(f.bind.key) == nullptr, "a key named like a section");
            continue;
        }
        seen_section = true;
        CHECK_MESSAGE(find_section(section) != nullptr, "section without a doc: ", section);
        if (section != current) {
            CHECK_MESSAGE(closed_sections.count(section) == 0, "section split in two");
            if (!current.empty()) closed_sections.insert(current);
            current = section;
        }
    }
    for (const Section& s : sections()) {
        CAPTURE(s.name);
        const bool used = std::any_of(fields().begin(), fields().end(), [&](const Field& f) {
            return section_of(f.bind.key) == s.name;
        });
        CHECK_MESSAGE(used, "section with no keys");
    }
}

TEST_CASE("schema: every row is well formed and its default passes its own checks") {
    for (const Field& f : fields()) {
        CAPTURE(f.bind.key);
        CHECK(static_cast<bool>(f.bind.set != nullptr));
        CHECK_MESSAGE(f.doc.size() > 10, "missing doc");
        CHECK_MESSAGE(f.doc.back() == '.', "doc should end with a full stop");
        CHECK((f.type == FieldType::Enum) == !f.choices.empty());
        if (f.type == FieldType::Uint) CHECK(f.min <= f.max);
        if (f.type != FieldType::Uint) CHECK((f.min == 0 && f.max == 0));
        const auto value = nlohmann::json::parse(f.default_json, nullptr, false);
        REQUIRE_MESSAGE(!value.is_discarded(), "default is not JSON: ", f.default_json);
        auto converted = convert(f, value, "/base");
        REQUIRE_MESSAGE(converted.ok(), "default rejected: ", converted.error().message);
        Config c;
        f.bind.set(c, *converted);  // aborts if the row's type does not fit its member
    }
}

TEST_CASE("schema: find_field and key helpers") {
    REQUIRE(find_field("smtp.max_recipients") != nullptr);
    CHECK(find_field("smtp.max_recipients")->type == FieldType::Uint);
    CHECK(find_field("smtp") == nullptr);
    CHECK(find_field("max_recipients") == nullptr);
    CHECK(section_of("smtp.max_recipients") == "smtp");
    CHECK(section_of("hostname").empty());
    CHECK(name_of("smtp.max_recipients") == "max_recipients");
    CHECK(name_of("hostname") == "hostname");
}

}  // namespace postern::config
