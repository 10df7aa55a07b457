#include "libsystemd_api.hpp"

#include "dynamic_library.hpp"

namespace droplet {
namespace {

LibSystemd open_libsystemd() {
    DynamicLibrary so("libsystemd.so.0", "--systemd-cgroup");
    LibSystemd lib{};
    so.bind("sd_bus_call", lib.sd_bus_call);
    so.bind("sd_bus_call_method", lib.sd_bus_call_method);
    so.bind("sd_bus_error_free", lib.sd_bus_error_free);
    so.bind("sd_bus_error_has_name", lib.sd_bus_error_has_name);
    so.bind("sd_bus_flush_close_unref", lib.sd_bus_flush_close_unref);
    so.bind("sd_bus_match_signal", lib.sd_bus_match_signal);
    so.bind("sd_bus_message_append", lib.sd_bus_message_append);
    so.bind("sd_bus_message_append_array", lib.sd_bus_message_append_array);
    so.bind("sd_bus_message_close_container", lib.sd_bus_message_close_container);
    so.bind("sd_bus_message_new_method_call", lib.sd_bus_message_new_method_call);
    so.bind("sd_bus_message_open_container", lib.sd_bus_message_open_container);
    so.bind("sd_bus_message_read", lib.sd_bus_message_read);
    so.bind("sd_bus_message_unref", lib.sd_bus_message_unref);
    so.bind("sd_bus_new", lib.sd_bus_new);
    so.bind("sd_bus_open_system", lib.sd_bus_open_system);
    so.bind("sd_bus_process", lib.sd_bus_process);
    so.bind("sd_bus_set_address", lib.sd_bus_set_address);
    so.bind("sd_bus_slot_unref", lib.sd_bus_slot_unref);
    so.bind("sd_bus_start", lib.sd_bus_start);
    so.bind("sd_bus_unref", lib.sd_bus_unref);
    so.bind("sd_bus_wait", lib.sd_bus_wait);
    return lib;
}

} // namespace

const LibSystemd& libsystemd() {
    static const LibSystemd lib = open_libsystemd();
    return lib;
}

} // namespace droplet
