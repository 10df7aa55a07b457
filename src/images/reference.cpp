#include "reference.hpp"

#include <algorithm>
#include <cctype>

namespace raind::images {
namespace {

constexpr std::string_view docker_hub = "docker.io";
constexpr size_t max_name_length = 255;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+ separated by '.', '_', '__' or any run of '-'.
void check_component(std::string_view c, std::string_view whole) {
    auto fail = [&](const std::string& why) {
        throw InvalidReference("invalid reference \"" + std::string(whole) + "\": path component \"" + std::string(c) +
                               "\" " + why);
    };
    if (c.empty())
        fail("is empty");
    if (std::any_of(c.begin(), c.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; }))
        fail("must be lowercase");
    if (!is_lower_alnum(c.front()) || !is_lower_alnum(c.back()))
        fail("must start and end with a lowercase letter or digit");
    for (size_t i = 0; i < c.size();) {
        if (is_lower_alnum(c[i])) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < c.size() && !is_lower_alnum(c[j]))
            ++j;
        std::string_view sep = c.substr(i, j - i);
        bool ok = sep == "." || sep == "_" || sep == "__" || sep.find_first_not_of('-') == std::string_view::npos;
        if (!ok)
            fail("has invalid separator \"" + std::string(sep) + "\" (allowed: '.', '_', '__', '-')");
        i = j;
    }
}

void check_domain(std::string_view d, std::string_view whole) {
    auto fail = [&](const std::string& why) {
        throw InvalidReference("invalid reference \"" + std::string(whole) + "\": registry \"" + std::string(d) +
                               "\" " + why);
    };
    std::string_view host = d;
    std::string_view port;
    if (!d.empty() && d.front() == '[') {
        auto close = d.find(']');
        if (close == std::string_view::npos)
            fail("has an unterminated IPv6 address");
        host = d.substr(1, close - 1);
        std::string_view rest = d.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                fail("has garbage after the IPv6 address");
            port = rest.substr(1);
            if (port.empty())
                fail("has an empty port");
        }
        if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
            fail("has an invalid IPv6 address");
    } else {
        auto colon = d.find(':');
        if (colon != std::string_view::npos) {
            host = d.substr(0, colon);
            port = d.substr(colon + 1);
            if (port.empty())
                fail("has an empty port");
        }
        if (host.empty())
            fail("has an empty host name");
        for (char c : host)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-')
                fail("has invalid character '" + std::string(1, c) + "' in the host name");
        if (host.front() == '-' || host.back() == '-' || host.front() == '.' || host.find("..") != host.npos)
            fail("is not a valid host name");
    }
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
            fail("has invalid port \"" + std::string(port) + "\"");
        if (std::stoul(std::string(port)) > 65535 || std::stoul(std::string(port)) == 0)
            fail("has port \"" + std::string(port) + "\" out of range");
    }
}

void check_tag(std::string_view t, std::string_view whole) {
    auto fail = [&](const std::string& why) {
        throw InvalidReference("invalid reference \"" + std::string(whole) + "\": tag \"" + std::string(t) + "\" " +
                               why);
    };
    if (t.empty())
        fail("is empty");
    if (t.size() > 128)
        fail("is longer than 128 characters");
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    if (!word(t.front()))
        fail("must start with a letter, digit or '_'");
    for (char c : t)
        if (!word(c) && c != '.' && c != '-')
            fail("has invalid character '" + std::string(1, c) + "'");
}

void check_digest(std::string_view d, std::string_view whole) {
    auto fail = [&](const std::string& why) {
        throw InvalidReference("invalid reference \"" + std::string(whole) + "\": digest \"" + std::string(d) +
                               "\" " + why);
    };
    auto colon = d.find(':');
    if (colon == std::string_view::npos)
        fail("has no algorithm (expected sha256:<hex>)");
    std::string_view algo = d.substr(0, colon), hex = d.substr(colon + 1);
    if (algo != "sha256" && algo != "sha512")
        fail("uses unsupported algorithm \"" + std::string(algo) + "\"");
    size_t want = algo == "sha256" ? 64 : 128;
    if (hex.size() != want)
        fail("must have " + std::to_string(want) + " hex characters, has " + std::to_string(hex.size()));
    if (hex.find_first_not_of("0123456789abcdef") != std::string_view::npos)
        fail("must be lowercase hex");
}

} // namespace

Reference Reference::parse(std::string_view text) {
    if (text.empty())
        throw InvalidReference("invalid reference: empty");
    for (char c : text)
        if (std::isspace(static_cast<unsigned char>(c)) || !std::isprint(static_cast<unsigned char>(c)))
            throw InvalidReference("invalid reference \"" + std::string(text) + "\": contains whitespace or control characters");

    Reference ref;
    std::string_view rest = text;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        ref.digest = rest.substr(at + 1);
        check_digest(ref.digest, text);
        rest = rest.substr(0, at);
    }
    // A tag is after the last ':' that follows the last '/' (a ':' before it is a port).
    auto slash = rest.rfind('/');
    auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        ref.tag = rest.substr(colon + 1);
        check_tag(ref.tag, text);
        rest = rest.substr(0, colon);
    }
    if (rest.empty())
        throw InvalidReference("invalid reference \"" + std::string(text) + "\": repository name is empty");

    // The first component is a registry when it looks like a host: has '.', ':' or '[', or is localhost.
    auto first_slash = rest.find('/');
    std::string_view path = rest;
    if (first_slash != std::string_view::npos) {
        std::string_view first = rest.substr(0, first_slash);
        if (first.find_first_of(".:[") != std::string_view::npos || first == "localhost" ||
            std::any_of(first.begin(), first.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
            check_domain(first, text);
            ref.registry = first;
            path = rest.substr(first_slash + 1);
        }
    }
    if (ref.registry.empty() || ref.registry == "index.docker.io")
        ref.registry = docker_hub;
    if (path.empty())
        throw InvalidReference("invalid reference \"" + std::string(text) + "\": repository name is empty");

    size_t start = 0;
    while (true) {
        auto end = path.find('/', start);
        check_component(path.substr(start, end == std::string_view::npos ? end : end - start), text);
        if (end == std::string_view::npos)
            break;
        start = end + 1;
    }
    ref.repository = path;
    if (ref.registry == docker_hub && ref.repository.find('/') == std::string::npos)
        ref.repository = "library/" + ref.repository;
    if (ref.registry.size() + 1 + ref.repository.size() > max_name_length)
        throw InvalidReference("invalid reference \"" + std::string(text) + "\": name is longer than 255 characters");
    if (ref.tag.empty() && ref.digest.empty())
        ref.tag = "latest";
    return ref;
}

std::string Reference::name() const { return registry + "/" + repository; }

std::string Reference::str() const {
    std::string s = name();
    if (!tag.empty())
        s += ":" + tag;
    if (!digest.empty())
        s += "@" + digest;
    return s;
}

std::string Reference::familiar() const {
    std::string s;
    if (registry == docker_hub)
        s = repository.rfind("library/", 0) == 0 ? repository.substr(8) : repository;
    else
        s = name();
    if (!tag.empty())
        s += ":" + tag;
    if (!digest.empty())
        s += "@" + digest;
    return s;
}

std::string Reference::api_host() const { return registry == docker_hub ? "registry-1.docker.io" : registry; }

} // namespace raind::images
