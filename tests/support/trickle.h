// Feeds input to a resumable parser twice: whole, then one byte at a time.
// A parser that only works when a line arrives in one read is a bug that a
// slow client (or TCP segmentation) will find in production.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::test {

// Calls feed() with `input` split into chunks of at most `chunk` bytes.
void feed_in_chunks(std::string_view input, std::size_t chunk,
                    const std::function<void(std::string_view)>& feed);

// The chunk sizes every trickle test runs with: whole input, then 1 byte.
std::vector<std::size_t> trickle_chunk_sizes(std::string_view input);

}  // namespace postern::test
