#include "image_config.hpp"

#include <nlohmann/json.hpp>

#include "error.hpp"

namespace raind::images {

namespace {

using nlohmann::json;

std::string string_field(const json& j, const char* key, const std::string& where) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return {};
    if (!it->is_string())
        throw Error("image config: " + where + key + " must be a string");
    return it->get<std::string>();
}

std::vector<std::string> string_list(const json& j, const char* key, const std::string& where) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return {};
    if (!it->is_array())
        throw Error("image config: " + where + key + " must be an array of strings");
    std::vector<std::string> out;
    for (const auto& v : *it) {
        if (!v.is_string())
            throw Error("image config: " + where + key + " must be an array of strings");
        out.push_back(v.get<std::string>());
    }
    return out;
}

// {"80/tcp": {}} -> ["80/tcp"]
std::vector<std::string> key_set(const json& j, const char* key, const std::string& where) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return {};
    if (!it->is_object())
        throw Error("image config: " + where + key + " must be an object");
    std::vector<std::string> out;
    for (const auto& [k, v] : it->items())
        out.push_back(k);
    return out;
}

} // namespace

ImageConfig ImageConfig::parse(std::string_view text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw Error(std::string("image config: invalid JSON: ") + e.what());
    }
    if (!j.is_object())
        throw Error("image config: not a JSON object");
    ImageConfig c;
    c.created = string_field(j, "created", "");
    c.os = string_field(j, "os", "");
    c.architecture = string_field(j, "architecture", "");
    c.variant = string_field(j, "variant", "");
    if (auto it = j.find("config"); it != j.end() && !it->is_null()) {
        if (!it->is_object())
            throw Error("image config: config must be an object");
        const json& cfg = *it;
        c.user = string_field(cfg, "User", "config.");
        c.working_dir = string_field(cfg, "WorkingDir", "config.");
        c.stop_signal = string_field(cfg, "StopSignal", "config.");
        c.env = string_list(cfg, "Env", "config.");
        c.entrypoint = string_list(cfg, "Entrypoint", "config.");
        c.cmd = string_list(cfg, "Cmd", "config.");
        c.exposed_ports = key_set(cfg, "ExposedPorts", "config.");
        c.volumes = key_set(cfg, "Volumes", "config.");
        if (auto l = cfg.find("Labels"); l != cfg.end() && !l->is_null()) {
            if (!l->is_object())
                throw Error("image config: config.Labels must be an object");
            for (const auto& [k, v] : l->items()) {
                if (!v.is_string())
                    throw Error("image config: config.Labels." + k + " must be a string");
                c.labels[k] = v.get<std::string>();
            }
        }
    }
    if (auto r = j.find("rootfs"); r != j.end() && r->is_object())
        for (const auto& d : string_list(*r, "diff_ids", "rootfs."))
            c.diff_ids.push_back(Digest::parse(d));
    return c;
}

} // namespace raind::images
