// Times as people read them in tables: "3 minutes ago", "Up 5 seconds".
#pragma once

#include <cstdint>
#include <string>

namespace raind::cli {

// "5 seconds", "About a minute", "3 hours" (Docker's wording).
std::string human_duration(int64_t seconds);
// "Less than a minute ago", "3 days ago" for a Unix time.
std::string ago(int64_t when);

} // namespace raind::cli
