// Splitting a byte stream into NUL-terminated varlink messages.
#include "trueno/varlink/framing.hpp"

#include <string>

namespace trueno::varlink {

Status MessageReader::feed(std::string_view bytes, std::vector<std::string>& out) {
    while (!bytes.empty()) {
        const auto nul = bytes.find('\0');
        const auto piece = bytes.substr(0, nul);
        // Checked before appending so a peer streaming an endless message costs at most the cap.
        if (partial_.size() + piece.size() > max_size_) {
            partial_.clear();
            return make_error(E2BIG, "message exceeds " + std::to_string(max_size_) + " bytes");
        }
        partial_.append(piece);
        if (nul == std::string_view::npos) break;
        out.push_back(std::move(partial_));
        partial_.clear();
        bytes.remove_prefix(nul + 1);
    }
    return {};
}

std::string frame(std::string_view json_text) {
    std::string wire;
    wire.reserve(json_text.size() + 1);
    wire.append(json_text);
    wire.push_back('\0');
    return wire;
}

} // namespace trueno::varlink
