// Text vs --json output of mailctl, in one place: every list/show command
// builds a JSON value and hands it here; the text form is derived from it so
// the two can never disagree.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace postern::mailctl {

// A list of records: JSON array, or one line per record with `columns`
// aligned.
void print_table(const nlohmann::json& rows, const std::vector<std::string>& columns, bool as_json);
// One record: JSON object, or "key: value" lines.
void print_record(const nlohmann::json& record, bool as_json);

}  // namespace postern::mailctl
