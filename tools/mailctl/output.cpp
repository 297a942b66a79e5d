#include "tools/mailctl/output.h"

#include <algorithm>
#include <iostream>

namespace postern::mailctl {
namespace {

std::string cell(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "-";
    if (v.is_array()) {
        std::string out;
        for (const auto& item : v)
            out += (out.empty() ? "" : ",") + cell(item);
        return out;
    }
    return v.dump();
}

}  // namespace

void print_table(const nlohmann::json& rows, const std::vector<std::string>& columns,
                 bool as_json) {
    if (as_json) {
        std::cout << rows.dump(2) << "\n";
        return;
    }
    std::vector<std::size_t> width(columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i)
        width[i] = columns[i].size();
    for (const auto& row : rows)
        for (std::size_t i = 0; i < columns.size(); ++i)
            width[i] = std::max(width[i], cell(row.value(columns[i], nlohmann::json())).size());
    const auto print_row = [&](const std::vector<std::string>& cells) {
        std::string line;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            line += cells[i];
            if (i + 1 < cells.size()) line += std::string(width[i] - cells[i].size() + 2, ' ');
        }
        std::cout << line << "\n";
    };
    print_row(columns);
    for (const auto& row : rows) {
        std::vector<std::string> cells;
        for (const auto& c : columns)
            cells.push_back(cell(row.value(c, nlohmann::json())));
        print_row(cells);
    }
}

void print_record(const nlohmann::json& record, bool as_json) {
    if (as_json) {
        std::cout << record.dump(2) << "\n";
        return;
    }
    for (const auto& [key, value] : record.items())
        std::cout << key << ": " << cell(value) << "\n";
}

}  // namespace postern::mailctl
