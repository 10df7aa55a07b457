// Program-level logging: the library logs at debug only, the program reports once.
#pragma once

#include <string_view>

namespace raind::log {

enum class Level { debug, info, warning, error };
enum class Format { text, json };

// Where messages go: stderr always (for warnings and errors), plus an optional
// file in text or JSON lines ({"level":…,"msg":…,"time":…}, what conmon/podman read).
void configure(std::string_view program, Level min_level, std::string_view file = {}, Format format = Format::text);

void write(Level level, std::string_view message);

inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warning(std::string_view m) { write(Level::warning, m); }
inline void error(std::string_view m) { write(Level::error, m); }

} // namespace raind::log
