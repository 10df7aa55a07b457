#include "libmount_api.hpp"

#include "dynamic_library.hpp"

namespace droplet {
namespace {

LibMount open_libmount() {
    DynamicLibrary so("libmount.so.1", "rootfs");
    LibMount lib{};
    so.bind("mnt_new_table_from_file", lib.new_table_from_file);
    so.bind("mnt_unref_table", lib.unref_table);
    so.bind("mnt_new_iter", lib.new_iter);
    so.bind("mnt_free_iter", lib.free_iter);
    so.bind("mnt_table_next_fs", lib.table_next_fs);
    so.bind("mnt_fs_get_id", lib.fs_get_id);
    so.bind("mnt_fs_get_optional_fields", lib.fs_get_optional_fields);
    so.bind("mnt_fs_get_target", lib.fs_get_target);
    return lib;
}

} // namespace

const LibMount& libmount() {
    static const LibMount lib = open_libmount();
    return lib;
}

} // namespace droplet
