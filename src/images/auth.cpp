#include "auth.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "fd.hpp"

namespace raind::images {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Keys docker and podman have used for one registry.
std::vector<std::string> keys_for(std::string_view registry) {
    std::string r(registry);
    std::vector<std::string> keys = {r, "https://" + r, "http://" + r, "https://" + r + "/v1/", "https://" + r + "/v2/"};
    if (r == "docker.io")
        for (const char* k : {"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io"})
            keys.emplace_back(k);
    return keys;
}

nlohmann::json load(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in)
        return nlohmann::json::object();
    try {
        auto j = nlohmann::json::parse(in);
        if (!j.is_object())
            throw Error("auth file " + path.string() + ": not a JSON object");
        return j;
    } catch (const nlohmann::json::exception& e) {
        throw Error("auth file " + path.string() + ": invalid JSON: " + e.what());
    }
}

} // namespace

std::vector<std::string> Challenge::scopes() const {
    std::vector<std::string> out;
    auto it = params.find("scope");
    if (it == params.end())
        return out;
    std::string_view s = it->second;
    while (!s.empty()) {
        auto sp = s.find(' ');
        if (sp != 0)
            out.emplace_back(s.substr(0, sp));
        if (sp == std::string_view::npos)
            break;
        s.remove_prefix(sp + 1);
    }
    return out;
}

std::vector<Challenge> parse_challenges(std::string_view h) {
    std::vector<Challenge> out;
    size_t i = 0;
    auto skip_ws = [&] {
        while (i < h.size() && (h[i] == ' ' || h[i] == '\t'))
            ++i;
    };
    auto token = [&] {
        size_t start = i;
        while (i < h.size() && h[i] != ' ' && h[i] != '\t' && h[i] != '=' && h[i] != ',')
            ++i;
        return h.substr(start, i - start);
    };
    while (i < h.size()) {
        skip_ws();
        while (i < h.size() && h[i] == ',')
            ++i, skip_ws();
        auto scheme = token();
        if (scheme.empty())
            break;
        Challenge c{lower(scheme), {}};
        // auth-params: name=value or name="quoted, value", until the next scheme token.
        while (true) {
            skip_ws();
            size_t save = i;
            auto name = token();
            skip_ws();
            if (name.empty() || i >= h.size() || h[i] != '=') {
                i = save;
                break;
            }
            ++i;
            skip_ws();
            std::string value;
            if (i < h.size() && h[i] == '"') {
                ++i;
                while (i < h.size() && h[i] != '"') {
                    if (h[i] == '\\' && i + 1 < h.size())
                        ++i;
                    value += h[i++];
                }
                ++i;
            } else {
                value = token();
            }
            c.params[lower(name)] = value;
            skip_ws();
            if (i < h.size() && h[i] == ',')
                ++i;
        }
        out.push_back(std::move(c));
    }
    return out;
}

std::string base64_encode(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view data) {
    if (data.size() % 4 != 0)
        return std::nullopt;
    std::string out(3 * data.size() / 4, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    if (n < 0)
        return std::nullopt;
    // EVP_DecodeBlock counts padding as zero bytes.
    size_t pad = 0;
    for (size_t k = data.size(); k > 0 && data[k - 1] == '=' && pad < 2; --k)
        ++pad;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

std::optional<Credentials> AuthFile::get(std::string_view registry) const {
    auto j = load(path_);
    auto auths = j.find("auths");
    if (auths == j.end() || !auths->is_object())
        return std::nullopt;
    for (const auto& key : keys_for(registry)) {
        auto it = auths->find(key);
        if (it == auths->end() || !it->is_object())
            continue;
        auto auth = it->value("auth", std::string());
        if (auth.empty())
            continue;
        auto decoded = base64_decode(auth);
        auto colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon == std::string::npos)
            throw Error("auth file " + path_.string() + ": entry \"" + key + "\" is not base64(user:password)");
        return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
    }
    return std::nullopt;
}

namespace {
void save(const std::filesystem::path& path, const nlohmann::json& j) {
    std::error_code ec;
    if (path.has_parent_path())
        std::filesystem::create_directories(path.parent_path(), ec);
    std::string tmp = path.string() + ".tmp-XXXXXX";
    UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (!fd)
        throw_errno("create " + path.string());
    ::fchmod(fd.get(), 0600);
    std::string text = j.dump(1, '\t') + "\n";
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd.get()) < 0 ||
        ::rename(tmp.c_str(), path.c_str()) < 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw_errno("write " + path.string(), err);
    }
}
} // namespace

void AuthFile::set(std::string_view registry, const Credentials& c) {
    auto j = load(path_);
    if (!j.contains("auths") || !j["auths"].is_object())
        j["auths"] = nlohmann::json::object();
    for (const auto& key : keys_for(registry))
        j["auths"].erase(key);
    j["auths"][std::string(registry)] = {{"auth", base64_encode(c.username + ":" + c.password)}};
    save(path_, j);
}

bool AuthFile::erase(std::string_view registry) {
    auto j = load(path_);
    if (!j.contains("auths") || !j["auths"].is_object())
        return false;
    size_t n = 0;
    for (const auto& key : keys_for(registry))
        n += j["auths"].erase(key);
    if (n)
        save(path_, j);
    return n > 0;
}

} // namespace raind::images
