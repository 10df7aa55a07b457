#include "registry_settings.hpp"

#include <fstream>

#include "auth.hpp"
#include "error.hpp"
#include "errors.hpp"

namespace condenser {
namespace {

std::string trim(const std::string& text) {
    auto begin = text.find_first_not_of(" \t\r");
    if (begin == std::string::npos)
        return {};
    auto end = text.find_last_not_of(" \t\r");
    return text.substr(begin, end - begin + 1);
}

} // namespace

raind::images::RegistryOptions read_registry_settings(const std::filesystem::path& file) {
    raind::images::RegistryOptions options;
    std::ifstream in(file);
    if (!in)
        return options;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        line = trim(line.substr(0, line.find('#')));
        if (line.empty())
            continue;
        auto equals = line.find('=');
        std::string key = equals == std::string::npos ? line : trim(line.substr(0, equals));
        std::string value = equals == std::string::npos ? "" : trim(line.substr(equals + 1));
        auto bad = [&](const std::string& why) {
            return raind::Error(file.string() + ":" + std::to_string(number) + ": " + why);
        };
        if (value.empty())
            throw bad("expected 'key = value'");
        if (key == "insecure") {
            options.insecure.push_back(value);
        } else if (key == "cert-dir") {
            options.cert_dirs.push_back(value);
        } else if (key == "mirror") {
            auto to = value.find('=');
            if (to == std::string::npos)
                throw bad("mirror needs 'registry=location'");
            options.mirrors[trim(value.substr(0, to))] = trim(value.substr(to + 1));
        } else {
            throw bad("unknown setting '" + key + "' (known: insecure, cert-dir, mirror)");
        }
    }
    return options;
}

CallOptions parse_call_options(const std::map<std::string, sdbus::Variant>& options) {
    CallOptions call;
    for (const auto& [key, value] : options) {
        auto wrong_type = [&](const char* type) {
            return errors::make(errors::invalid_argument, "option '" + key + "' must be of type " + type);
        };
        if (key == "platform") {
            if (!value.containsValueOfType<std::string>())
                throw wrong_type("s");
            call.platform = value.get<std::string>();
        } else if (key == "insecure") {
            if (!value.containsValueOfType<bool>())
                throw wrong_type("b");
            call.insecure = value.get<bool>();
        } else if (key == "auth") {
            if (!value.containsValueOfType<std::string>())
                throw wrong_type("s");
            auto decoded = raind::images::base64_decode(value.get<std::string>());
            auto colon = decoded ? decoded->find(':') : std::string::npos;
            if (colon == std::string::npos)
                throw errors::make(errors::invalid_argument, "option 'auth' must be base64 of 'user:password'");
            call.auth = raind::images::Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
        } else {
            throw errors::make(errors::invalid_argument,
                               "unknown option '" + key + "' (known: platform, insecure, auth)");
        }
    }
    return call;
}

ParsedOptions::ParsedOptions(const std::map<std::string, sdbus::Variant>& options) {
    try {
        options_ = parse_call_options(options);
    } catch (const sdbus::Error& e) {
        error_ = e;
    }
}

const CallOptions& ParsedOptions::get() const {
    if (error_)
        throw *error_;
    return options_;
}

raind::images::RegistryOptions registry_options_for(const std::filesystem::path& file, const std::string& registry,
                                                    const CallOptions& call) {
    auto options = read_registry_settings(file);
    if (call.insecure)
        options.insecure.push_back(registry);
    if (call.auth)
        options.credentials[registry] = *call.auth;
    return options;
}

} // namespace condenser
