#include "dictionary_trainer.hpp"

#include <zdict.h>

#include <string>

#include "trueno/page.hpp"

namespace trueno::store {

Result<std::vector<std::byte>> train_dictionary(std::span<const std::byte> samples,
                                                std::size_t capacity) {
    const std::size_t count = samples.size() / kPageSize;
    if (count < 8)
        return make_error(EINVAL, "a dictionary needs at least 8 sample pages, got " +
                                      std::to_string(count));
    if (capacity < 256)
        return make_error(EINVAL, "a dictionary of " + std::to_string(capacity) + " bytes is too small");
    std::vector<std::size_t> sizes(count, kPageSize);
    std::vector<std::byte> dictionary(capacity);
    const std::size_t size = ZDICT_trainFromBuffer(dictionary.data(), dictionary.size(),
                                                   samples.data(), sizes.data(),
                                                   static_cast<unsigned>(count));
    if (ZDICT_isError(size))
        return make_error(EINVAL, std::string("zstd could not train a dictionary: ") +
                                      ZDICT_getErrorName(size));
    dictionary.resize(size);
    return dictionary;
}

} // namespace trueno::store
