#include "manifest.hpp"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "error.hpp"

namespace raind::images {

namespace {

std::string normalize_arch(std::string a) {
    if (a == "x86_64" || a == "x86-64")
        return "amd64";
    if (a == "aarch64")
        return "arm64";
    if (a == "i386" || a == "i686")
        return "386";
    return a;
}

// arm64 images are v8 unless they say otherwise; podman and containerd treat them so.
std::string default_variant(std::string_view arch) { return arch == "arm64" ? "v8" : ""; }

nlohmann::json parse_json(std::string_view body, std::string_view what) {
    try {
        auto j = nlohmann::json::parse(body);
        if (!j.is_object())
            throw Error(std::string(what) + ": not a JSON object");
        return j;
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string(what) + ": invalid JSON: " + e.what());
    }
}

Descriptor descriptor(const nlohmann::json& j, std::string_view what) {
    try {
        Descriptor d{j.value("mediaType", std::string()), Digest::parse(j.at("digest").get<std::string>()),
                     j.at("size").get<uint64_t>(), std::nullopt};
        if (auto p = j.find("platform"); p != j.end() && p->is_object())
            d.platform = Platform{p->value("os", std::string()), normalize_arch(p->value("architecture", std::string())),
                                  p->value("variant", std::string())};
        return d;
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string(what) + ": bad descriptor: " + e.what());
    }
}

} // namespace

Platform Platform::parse(std::string_view text) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        auto slash = text.find('/', start);
        parts.emplace_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
        if (slash == std::string_view::npos)
            break;
        start = slash + 1;
    }
    auto bad = [&] { return Error("invalid platform \"" + std::string(text) + "\": expected os/arch[/variant]"); };
    for (const auto& p : parts)
        if (p.empty())
            throw bad();
    Platform p;
    if (parts.size() == 1)
        p.architecture = normalize_arch(parts[0]);
    else if (parts.size() <= 3) {
        p.os = parts[0];
        p.architecture = normalize_arch(parts[1]);
        if (parts.size() == 3)
            p.variant = parts[2];
    } else
        throw bad();
    return p;
}

Platform Platform::host() {
    utsname u{};
    ::uname(&u);
    Platform p;
    p.architecture = normalize_arch(u.machine);
    return p;
}

std::string Platform::str() const { return os + "/" + architecture + (variant.empty() ? "" : "/" + variant); }

bool Platform::matches(const Platform& c) const {
    if (c.os != os || c.architecture != architecture)
        return false;
    if (variant.empty())
        return true;
    std::string have = c.variant.empty() ? default_variant(c.architecture) : c.variant;
    return have == variant;
}

bool is_index(std::string_view t) { return t == media_type::docker_list || t == media_type::oci_index; }

std::string detect_media_type(std::string_view content_type, std::string_view body) {
    std::string ct(content_type.substr(0, content_type.find(';')));
    if (ct == media_type::docker_manifest || ct == media_type::docker_list || ct == media_type::oci_manifest ||
        ct == media_type::oci_index)
        return ct;
    if (ct.find("manifest.v1") != std::string::npos)
        throw Error("registry sent a Docker schema 1 manifest (" + ct + "), which is not supported");
    auto j = parse_json(body, "manifest");
    std::string mt = j.value("mediaType", std::string());
    if (!mt.empty()) {
        if (mt == media_type::docker_manifest || mt == media_type::docker_list || mt == media_type::oci_manifest ||
            mt == media_type::oci_index)
            return mt;
        throw Error("unsupported manifest media type \"" + mt + "\"");
    }
    if (j.value("schemaVersion", 0) == 1)
        throw Error("registry sent a Docker schema 1 manifest, which is not supported");
    if (j.contains("manifests"))
        return std::string(media_type::oci_index);
    if (j.contains("config") && j.contains("layers"))
        return std::string(media_type::oci_manifest);
    throw Error("cannot tell the manifest type (Content-Type \"" + std::string(content_type) + "\")");
}

Manifest parse_manifest(std::string_view body, std::string_view mt) {
    auto j = parse_json(body, "manifest");
    Manifest m{std::string(mt), descriptor(j.at("config"), "manifest config"), {}};
    if (!j.contains("layers") || !j["layers"].is_array())
        throw Error("manifest has no layers array");
    for (const auto& l : j["layers"])
        m.layers.push_back(descriptor(l, "manifest layer"));
    return m;
}

Index parse_index(std::string_view body, std::string_view mt) {
    auto j = parse_json(body, "manifest index");
    if (!j.contains("manifests") || !j["manifests"].is_array())
        throw Error("manifest index has no manifests array");
    Index idx{std::string(mt), {}};
    for (const auto& m : j["manifests"])
        idx.manifests.push_back(descriptor(m, "manifest index entry"));
    return idx;
}

const Descriptor& select_platform(const Index& index, const Platform& wanted) {
    const Descriptor* best = nullptr;
    for (const auto& d : index.manifests) {
        if (!d.platform || !wanted.matches(*d.platform))
            continue;
        // Without a wanted variant prefer the architecture's default one (arm64 -> v8).
        if (!best || (wanted.variant.empty() && d.platform->variant == default_variant(d.platform->architecture) &&
                      best->platform->variant != default_variant(best->platform->architecture)))
            best = &d;
    }
    if (best)
        return *best;
    std::string available;
    for (const auto& d : index.manifests)
        if (d.platform)
            available += (available.empty() ? "" : ", ") + d.platform->str();
    throw Error("no image for platform " + wanted.str() + " in the manifest list (available: " +
                (available.empty() ? "none" : available) + ")");
}

std::vector<Digest> config_diff_ids(std::string_view config) {
    auto j = parse_json(config, "image config");
    std::vector<Digest> out;
    try {
        for (const auto& d : j.at("rootfs").at("diff_ids"))
            out.push_back(Digest::parse(d.get<std::string>()));
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string("image config: bad rootfs.diff_ids: ") + e.what());
    }
    return out;
}

} // namespace raind::images
