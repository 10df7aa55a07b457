#include "security_options.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "error.hpp"

namespace raind::cli {
namespace {

std::string read_profile(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw raind::Error("cannot read seccomp profile " + path + ": " + std::strerror(errno));
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw raind::Error("seccomp profile " + path + " is not a regular file");
    std::ostringstream text;
    text << in.rdbuf();
    // Only the syntax here, to name the file; the daemon checks the rest of the profile.
    try {
        [[maybe_unused]] auto parsed = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::parse_error& e) {
        throw raind::Error("seccomp profile " + path + " is not valid JSON: " + e.what());
    }
    return text.str();
}

} // namespace

void add_security_options(const std::vector<std::string>& security_opt, std::map<std::string, sdbus::Variant>& options) {
    std::vector<std::string> passed;
    for (const auto& opt : security_opt) {
        bool seccomp = opt.rfind("seccomp=", 0) == 0 || opt.rfind("seccomp:", 0) == 0;
        std::string value = seccomp ? opt.substr(8) : "";
        if (!seccomp || value == "unconfined" || (!value.empty() && value[0] == '{')) {
            passed.push_back(opt);
            continue;
        }
        if (options.count("seccomp_profile"))
            throw raind::Error("--security-opt seccomp= is given twice");
        options["seccomp_profile"] = sdbus::Variant(read_profile(value));
    }
    if (!passed.empty())
        options["security_opt"] = sdbus::Variant(passed);
}

} // namespace raind::cli
