// libmount, opened only for the rare mountinfo lookup droplet needs (see rootfs.cpp);
// the same reason as dynamic_library.hpp.
#pragma once

#include <libmount/libmount.h>

namespace droplet {

struct LibMount {
    decltype(&::mnt_new_table_from_file) new_table_from_file;
    decltype(&::mnt_unref_table) unref_table;
    decltype(&::mnt_new_iter) new_iter;
    decltype(&::mnt_free_iter) free_iter;
    decltype(&::mnt_table_next_fs) table_next_fs;
    decltype(&::mnt_fs_get_id) fs_get_id;
    decltype(&::mnt_fs_get_optional_fields) fs_get_optional_fields;
    decltype(&::mnt_fs_get_target) fs_get_target;
};

// Throws "rootfs: cannot load libmount.so.1: <why>".
const LibMount& libmount();

} // namespace droplet
