// Dictionary bytes with their shared zstd digests riding in the shared_ptr control block.
#include "shared_dictionary.hpp"

namespace trueno::codec_detail {

std::shared_ptr<const std::vector<std::byte>> make_shared_dictionary(std::vector<std::byte> bytes) {
    // shared_ptr takes ownership at once (and deletes through the deleter if it throws).
    return std::shared_ptr<const std::vector<std::byte>>(
        new std::vector<std::byte>(std::move(bytes)),
        SharedDictionaryDeleter{std::make_shared<ZstdDictionaryDigests>()});
}

std::shared_ptr<ZstdDictionaryDigests>
dictionary_digests(const std::shared_ptr<const std::vector<std::byte>>& dictionary) {
    if (const auto* deleter = std::get_deleter<SharedDictionaryDeleter>(dictionary))
        return deleter->digests;
    return std::make_shared<ZstdDictionaryDigests>();
}

} // namespace trueno::codec_detail
