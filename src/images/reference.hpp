// Image references: "busybox" -> docker.io/library/busybox:latest, with the rules of the
// distribution project (domain detection, lowercase path components, tag and digest syntax).
#pragma once

#include <string>
#include <string_view>

#include "error.hpp"

namespace raind::images {

// A reference that does not parse; the message names the offending part.
class InvalidReference : public Error {
public:
    using Error::Error;
};

struct Reference {
    std::string registry;   // "docker.io", "localhost:5000", "[::1]:5000"
    std::string repository; // "library/busybox"
    std::string tag;        // empty when only a digest was given
    std::string digest;     // "sha256:<64 hex>" or empty

    // Normalizes: no domain -> docker.io, a single docker.io component -> library/NAME,
    // no tag and no digest -> tag "latest", index.docker.io -> docker.io.
    static Reference parse(std::string_view text);

    // "docker.io/library/busybox:latest" (tag and digest both kept when present).
    std::string str() const;
    // "docker.io/library/busybox" — the name without tag or digest.
    std::string name() const;
    // What a person types: "busybox:latest", "localhost:5000/x:1".
    std::string familiar() const;
    // Where the API lives: docker.io -> registry-1.docker.io, otherwise the registry itself.
    std::string api_host() const;
    // The tag or digest to ask the registry for (digest wins: it pins the content).
    std::string manifest_reference() const { return digest.empty() ? tag : digest; }

    bool operator==(const Reference&) const = default;
};

} // namespace raind::images
