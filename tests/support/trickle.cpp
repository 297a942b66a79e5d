#include "tests/support/trickle.h"

namespace postern::test {

void feed_in_chunks(std::string_view input, std::size_t chunk,
                    const std::function<void(std::string_view)>& feed) {
    if (chunk == 0) chunk = 1;
    for (std::size_t pos = 0; pos < input.size(); pos += chunk)
        feed(input.substr(pos, chunk));
}

std::vector<std::size_t> trickle_chunk_sizes(std::string_view input) {
    return {input.size() == 0 ? 1 : input.size(), 1};
}

}  // namespace postern::test
