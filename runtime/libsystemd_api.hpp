// libsystemd's sd-bus, opened the first time droplet talks to systemd (--systemd-cgroup).
// Linking it would map libsystemd and what it pulls in (gcrypt, lzma, zstd, lz4) into every
// droplet start, which bench/runtime-start holds to crun's peak RSS; the same reason as
// libseccomp_api.hpp.
#pragma once

#include <systemd/sd-bus.h>

namespace droplet {

struct LibSystemd {
    decltype(&::sd_bus_call) sd_bus_call;
    decltype(&::sd_bus_call_method) sd_bus_call_method;
    decltype(&::sd_bus_error_free) sd_bus_error_free;
    decltype(&::sd_bus_error_has_name) sd_bus_error_has_name;
    decltype(&::sd_bus_flush_close_unref) sd_bus_flush_close_unref;
    decltype(&::sd_bus_match_signal) sd_bus_match_signal;
    decltype(&::sd_bus_message_append) sd_bus_message_append;
    decltype(&::sd_bus_message_append_array) sd_bus_message_append_array;
    decltype(&::sd_bus_message_close_container) sd_bus_message_close_container;
    decltype(&::sd_bus_message_new_method_call) sd_bus_message_new_method_call;
    decltype(&::sd_bus_message_open_container) sd_bus_message_open_container;
    decltype(&::sd_bus_message_read) sd_bus_message_read;
    decltype(&::sd_bus_message_unref) sd_bus_message_unref;
    decltype(&::sd_bus_new) sd_bus_new;
    decltype(&::sd_bus_open_system) sd_bus_open_system;
    decltype(&::sd_bus_process) sd_bus_process;
    decltype(&::sd_bus_set_address) sd_bus_set_address;
    decltype(&::sd_bus_slot_unref) sd_bus_slot_unref;
    decltype(&::sd_bus_start) sd_bus_start;
    decltype(&::sd_bus_unref) sd_bus_unref;
    decltype(&::sd_bus_wait) sd_bus_wait;
};

// Throws "--systemd-cgroup: cannot load libsystemd.so.0: <why>".
const LibSystemd& libsystemd();

} // namespace droplet
