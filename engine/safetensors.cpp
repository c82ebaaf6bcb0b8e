#include "engine/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/model_error.h"

namespace gossamer::engine {
namespace {

struct DTypeInfo {
    const char* name;
    DType dtype;
    std::size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {"BF16", DType::BF16, 2}, {"F16", DType::F16, 2}, {"F32", DType::F32, 4},
    {"F64", DType::F64, 8},   {"U8", DType::U8, 1},   {"I8", DType::I8, 1},
    {"I16", DType::I16, 2},   {"I32", DType::I32, 4}, {"I64", DType::I64, 8},
    {"U16", DType::U16, 2},   {"U32", DType::U32, 4}, {"U64", DType::U64, 8},
    {"BOOL", DType::BOOL, 1},
};

constexpr std::uint64_t kMaxHeader = 100u << 20;  // 100 MiB, as the reference library limits

}  // namespace

const char* dtype_name(DType dtype) {
    for (const auto& d : kDTypes)
        if (d.dtype == dtype) return d.name;
    return "?";
}

std::size_t dtype_size(DType dtype) {
    for (const auto& d : kDTypes)
        if (d.dtype == dtype) return d.size;
    return 0;
}

std::int64_t TensorView::elements() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path, Residency residency)
    : file_(std::make_shared<MappedFile>(path, residency)) {
    const std::string where = path.string();
    auto fail = [&](const std::string& what) { throw ModelError(where + ": " + what); };
    if (file_->size() < 8)
        fail("too small for a safetensors header (" + std::to_string(file_->size()) +
             " bytes; truncated?)");
    std::uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i)
        header_len = header_len << 8 | static_cast<std::uint8_t>(file_->data()[i]);
    if (header_len > kMaxHeader || header_len > file_->size() - 8)
        fail("header length " + std::to_string(header_len) + " runs past the end of the " +
             std::to_string(file_->size()) + "-byte file (truncated or not a safetensors file)");
    const char* text = reinterpret_cast<const char*>(file_->data() + 8);
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(text, text + header_len);
    } catch (const nlohmann::json::exception& e) {
        fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object()) fail("header is not a JSON object");

    const std::byte* data = file_->data() + 8 + header_len;
    const std::uint64_t data_size = file_->size() - 8 - header_len;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    std::vector<std::string> range_names;
    for (const auto& [name, spec] : header.items()) {
        if (name == "__metadata__") continue;
        const std::string t = "tensor '" + name + "': ";
        if (!spec.is_object() || !spec.contains("dtype") || !spec.contains("shape") ||
            !spec.contains("data_offsets"))
            fail(t + "needs dtype, shape and data_offsets");
        TensorView view;
        view.name = name;
        const auto& dt = spec["dtype"];
        const DTypeInfo* info = nullptr;
        if (dt.is_string())
            for (const auto& d : kDTypes)
                if (dt.get<std::string>() == d.name) info = &d;
        if (!info) fail(t + "unknown dtype " + dt.dump());
        view.dtype = info->dtype;
        const auto& shape = spec["shape"];
        if (!shape.is_array()) fail(t + "shape must be an array");
        std::uint64_t count = 1;
        constexpr std::uint64_t kLimit = std::uint64_t{1} << 56;
        for (const auto& d : shape) {
            if (!d.is_number_unsigned()) fail(t + "shape entries must be non-negative integers");
            const auto extent = d.get<std::uint64_t>();
            if (extent > kLimit || (extent != 0 && count > kLimit / extent))
                fail(t + "shape is absurdly large");
            view.shape.push_back(static_cast<std::int64_t>(extent));
            count *= extent;
        }
        const auto& off = spec["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
            !off[1].is_number_unsigned())
            fail(t + "data_offsets must be [begin, end]");
        const auto begin = off[0].get<std::uint64_t>(), end = off[1].get<std::uint64_t>();
        if (begin > end || end > data_size)
            fail(t + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] lie outside the " + std::to_string(data_size) +
                 "-byte data section (truncated file?)");
        if (count * info->size != end - begin)
            fail(t + "shape and dtype need " + std::to_string(count * info->size) +
                 " bytes but data_offsets span " + std::to_string(end - begin));
        view.data = data + begin;
        view.bytes = static_cast<std::size_t>(end - begin);
        ranges.emplace_back(begin, end);
        range_names.push_back(name);
        tensors_.emplace(name, std::move(view));
    }
    // No two tensors may share bytes.
    std::vector<std::size_t> order(ranges.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return ranges[a] < ranges[b]; });
    for (std::size_t i = 1; i < order.size(); ++i) {
        const auto& prev = ranges[order[i - 1]];
        const auto& cur = ranges[order[i]];
        if (cur.first < prev.second && cur.first != cur.second && prev.first != prev.second)
            fail("tensors '" + range_names[order[i - 1]] + "' and '" + range_names[order[i]] +
                 "' overlap");
    }
}

}  // namespace gossamer::engine
