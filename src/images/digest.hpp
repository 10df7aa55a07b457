// Content digests: "sha256:<hex>" parsing and streaming sha256 over OpenSSL EVP.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "error.hpp"

namespace raind::images {

class InvalidDigest : public Error {
public:
    using Error::Error;
};

// A validated sha256 digest. Only sha256 is accepted: it is what every registry and
// image format in use writes, and the store is laid out by it (blobs/sha256/<hex>).
class Digest {
public:
    static Digest parse(std::string_view text); // throws InvalidDigest naming the problem
    static bool valid(std::string_view text) noexcept;
    static Digest from_hex(std::string_view hex);

    const std::string& str() const noexcept { return text_; } // "sha256:<hex>"
    std::string_view hex() const noexcept { return std::string_view(text_).substr(7); }
    std::string_view algorithm() const noexcept { return "sha256"; }

    bool operator==(const Digest&) const = default;

private:
    explicit Digest(std::string text) : text_(std::move(text)) {}
    std::string text_;
};

// Incremental sha256: feed bytes as they stream in, finish once.
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;

    void update(const void* data, size_t size);
    void update(std::string_view data) { update(data.data(), data.size()); }
    Digest finish(); // resets the hasher, so it can be reused
    uint64_t bytes() const noexcept { return bytes_; }

private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
    uint64_t bytes_ = 0;
};

Digest sha256_of(std::string_view data);
Digest sha256_of_file(const std::string& path);

} // namespace raind::images
