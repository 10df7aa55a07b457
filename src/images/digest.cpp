#include "digest.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "fd.hpp"

namespace raind::images {

namespace {
bool is_lower_hex(std::string_view s) { return s.find_first_not_of("0123456789abcdef") == std::string_view::npos; }
} // namespace

Digest Digest::parse(std::string_view text) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos)
        throw InvalidDigest("invalid digest \"" + std::string(text) + "\": expected sha256:<64 hex characters>");
    std::string_view algo = text.substr(0, colon), hex = text.substr(colon + 1);
    if (algo != "sha256")
        throw InvalidDigest("invalid digest \"" + std::string(text) + "\": unsupported algorithm \"" +
                            std::string(algo) + "\" (only sha256)");
    if (hex.size() != 64)
        throw InvalidDigest("invalid digest \"" + std::string(text) + "\": expected 64 hex characters, got " +
                            std::to_string(hex.size()));
    if (!is_lower_hex(hex))
        throw InvalidDigest("invalid digest \"" + std::string(text) + "\": not lowercase hex");
    return Digest(std::string(text));
}

bool Digest::valid(std::string_view text) noexcept {
    return text.size() == 71 && text.substr(0, 7) == "sha256:" && is_lower_hex(text.substr(7));
}

Digest Digest::from_hex(std::string_view hex) { return parse("sha256:" + std::string(hex)); }

struct Sha256::Ctx {
    EVP_MD_CTX* md = nullptr;
    ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
    ctx_->md = EVP_MD_CTX_new();
    if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1)
        throw Error("sha256: cannot initialize OpenSSL digest");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t size) {
    if (size && EVP_DigestUpdate(ctx_->md, data, size) != 1)
        throw Error("sha256: digest update failed");
    bytes_ += size;
}

Digest Sha256::finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_->md, out, &len) != 1 || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1)
        throw Error("sha256: digest finish failed");
    static constexpr char hexchars[] = "0123456789abcdef";
    std::string text = "sha256:";
    for (unsigned i = 0; i < len; ++i) {
        text += hexchars[out[i] >> 4];
        text += hexchars[out[i] & 15];
    }
    bytes_ = 0;
    return Digest::parse(text);
}

Digest sha256_of(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

Digest sha256_of_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("open " + path);
    Sha256 h;
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("read " + path);
        }
        if (n == 0)
            break;
        h.update(buf, static_cast<size_t>(n));
    }
    return h.finish();
}

} // namespace raind::images
