#include "format.hpp"

#include <ctime>

namespace raind::cli {

std::string human_duration(int64_t seconds) {
    if (seconds < 1)
        return "Less than a second";
    if (seconds < 60)
        return std::to_string(seconds) + (seconds == 1 ? " second" : " seconds");
    struct Unit {
        int64_t seconds;
        const char* name;
    };
    for (Unit unit : {Unit{86400 * 365, "year"}, Unit{86400 * 7, "week"}, Unit{86400, "day"}, Unit{3600, "hour"},
                      Unit{60, "minute"}}) {
        if (seconds >= unit.seconds) {
            int64_t n = seconds / unit.seconds;
            return std::to_string(n) + " " + unit.name + (n == 1 ? "" : "s");
        }
    }
    return "";
}

std::string ago(int64_t when) {
    int64_t seconds = static_cast<int64_t>(std::time(nullptr)) - when;
    if (seconds < 60)
        return "Less than a minute ago";
    return human_duration(seconds) + " ago";
}

} // namespace raind::cli
