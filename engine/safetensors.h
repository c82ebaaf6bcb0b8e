// One .safetensors file, memory-mapped and validated: an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}} and the data. Every tensor's byte range
// is checked against its dtype and shape, the file size and the other tensors before anyone
// can read it. It must not interpret tensor names (engine/weights.cpp does).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/mapped_file.h"

namespace gossamer::engine {

enum class DType { BF16, F16, F32, F64, U8, I8, I16, I32, I64, U16, U32, U64, BOOL };

const char* dtype_name(DType dtype);
std::size_t dtype_size(DType dtype);

struct TensorView {
    std::string name;
    DType dtype = DType::U8;
    std::vector<std::int64_t> shape;
    const std::byte* data = nullptr;
    std::size_t bytes = 0;
    std::int64_t elements() const;
};

class SafetensorsFile {
  public:
    // Throws ModelError naming the file (and tensor) for anything malformed.
    explicit SafetensorsFile(const std::filesystem::path& path,
                             Residency residency = Residency::Mapped);
    bool in_memory() const { return file_->in_memory(); }

    const std::filesystem::path& path() const { return file_->path(); }
    std::size_t size() const { return file_->size(); }
    const std::map<std::string, TensorView>& tensors() const { return tensors_; }
    const TensorView* find(const std::string& name) const;
    // MappedFile::rewrite over one of this file's tensors (false when the file is mapped).
    bool rewrite(const TensorView& tensor, const std::function<void(std::byte*)>& edit) {
        return file_->rewrite(tensor.data, tensor.bytes, edit);
    }

  private:
    std::shared_ptr<MappedFile> file_;
    std::map<std::string, TensorView> tensors_;
};

}  // namespace gossamer::engine
