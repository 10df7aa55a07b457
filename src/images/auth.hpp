// Registry credentials: WWW-Authenticate challenges and the auth file `raind login` writes, in
// the format podman (containers auth.json) and docker (~/.docker/config.json) share:
//   {"auths": {"localhost:5443": {"auth": base64("user:password")}}}
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raind::images {

struct Credentials {
    std::string username;
    std::string password;
    bool operator==(const Credentials&) const = default;
};

// One challenge of a WWW-Authenticate header: `Bearer realm="…",service="…",scope="a b"`.
struct Challenge {
    std::string scheme;                        // lowercase: "bearer", "basic"
    std::map<std::string, std::string> params; // keys lowercase
    // The scope parameter split on spaces (distribution sends several for cross-repo mounts).
    std::vector<std::string> scopes() const;
};

// Parses every challenge in the header (several may share one header, comma separated).
std::vector<Challenge> parse_challenges(std::string_view header);

std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view data);

class AuthFile {
public:
    explicit AuthFile(std::filesystem::path path) : path_(std::move(path)) {}
    const std::filesystem::path& path() const noexcept { return path_; }

    // Finds credentials for a registry ("localhost:5443", "docker.io"), also under the keys
    // docker writes ("https://index.docker.io/v1/", "https://host"). A missing file has none.
    std::optional<Credentials> get(std::string_view registry) const;
    // Writes atomically with mode 0600, keeping every other key of the file.
    void set(std::string_view registry, const Credentials& credentials);
    bool erase(std::string_view registry); // false when there was nothing to remove

private:
    std::filesystem::path path_;
};

} // namespace raind::images
