// Test support: paths into tests/data/golden (the official reference's random checkpoints
// and logits) and raw little-endian array files. Reading only; no asserts beyond "opened".
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace gossamer::test {

inline std::string golden(const std::string& name) {
    return std::string(GOSSAMER_TEST_DATA) + "/golden/" + name;
}

template <typename T>
std::vector<T> read_raw(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open " << path);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<T> out(bytes.size() / sizeof(T));
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
    return out;
}

}  // namespace gossamer::test
