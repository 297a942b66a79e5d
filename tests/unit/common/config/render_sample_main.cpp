// Prints the sample config rendered from the schema; its output is
// etc/postern.json.sample: `ninja -C BUILD update-config-sample` writes it.
#include <cstdio>

#include "common/config/config.h"

int main() {
    const std::string text = postern::config::render_sample();
    return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
}
