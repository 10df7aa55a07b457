#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace raind::images::test {

// A private directory removed with everything in it at the end of the test.
class TempDir {
public:
    TempDir() {
        std::string t = (std::filesystem::temp_directory_path() / "raind-images-test-XXXXXX").string();
        if (!::mkdtemp(t.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = t;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

private:
    std::filesystem::path path_;
};

// Everything below `dir`, relative, sorted: to assert what exists and what was left behind.
inline std::vector<std::string> listing(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != decltype(it)(); it.increment(ec))
        out.push_back(it->path().lexically_relative(dir).string());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace raind::images::test

#include <fstream>
#include <iterator>
#include <ostream>

#include "digest.hpp"

namespace raind::images {
inline void PrintTo(const Digest& d, std::ostream* os) { *os << d.str(); }
} // namespace raind::images

namespace raind::images::test {
inline std::string read_file_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
} // namespace raind::images::test
