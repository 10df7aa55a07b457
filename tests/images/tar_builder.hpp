// Builds layer tars in memory with libarchive's writer, including the malicious ones a
// registry could serve, so the unpacker is tested against real archives.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <fstream>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

namespace raind::images::test {

enum class Compression { none, gzip, zstd };

class TarBuilder {
public:
    explicit TarBuilder(Compression c = Compression::none) : a_(archive_write_new()) {
        archive_write_set_format_pax_restricted(a_);
        if (c == Compression::gzip)
            archive_write_add_filter_gzip(a_);
        else if (c == Compression::zstd)
            archive_write_add_filter_zstd(a_);
        archive_write_set_bytes_in_last_block(a_, 1);
        if (archive_write_open(a_, &out_, nullptr, &TarBuilder::append, nullptr) != ARCHIVE_OK)
            throw std::runtime_error(archive_error_string(a_));
    }
    ~TarBuilder() { archive_write_free(a_); }

    TarBuilder& file(const std::string& path, const std::string& content, int mode = 0644, int uid = 0, int gid = 0,
                     std::map<std::string, std::string> xattrs = {}) {
        auto e = entry(path, AE_IFREG, mode, uid, gid);
        archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
        for (auto& [k, v] : xattrs)
            archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
        write(e, content);
        return *this;
    }
    TarBuilder& dir(const std::string& path, int mode = 0755, int uid = 0, int gid = 0) {
        write(entry(path, AE_IFDIR, mode, uid, gid));
        return *this;
    }
    TarBuilder& symlink(const std::string& path, const std::string& target) {
        auto e = entry(path, AE_IFLNK, 0777, 0, 0);
        archive_entry_set_symlink(e, target.c_str());
        write(e);
        return *this;
    }
    TarBuilder& hardlink(const std::string& path, const std::string& target) {
        auto e = entry(path, AE_IFREG, 0644, 0, 0);
        archive_entry_set_hardlink(e, target.c_str());
        write(e);
        return *this;
    }
    TarBuilder& chardev(const std::string& path, int major, int minor) {
        auto e = entry(path, AE_IFCHR, 0666, 0, 0);
        archive_entry_set_rdevmajor(e, static_cast<dev_t>(major));
        archive_entry_set_rdevminor(e, static_cast<dev_t>(minor));
        write(e);
        return *this;
    }

    // Finishes the archive (once) and returns its bytes.
    const std::string& bytes() {
        if (!closed_) {
            archive_write_close(a_);
            closed_ = true;
        }
        return out_;
    }
    std::filesystem::path save(const std::filesystem::path& path) {
        std::ofstream(path, std::ios::binary) << bytes();
        return path;
    }

private:
    static la_ssize_t append(archive*, void* ctx, const void* buf, size_t n) {
        static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
    }
    archive_entry* entry(const std::string& path, unsigned type, int mode, int uid, int gid) {
        archive_entry_clear(e_);
        archive_entry_set_pathname(e_, path.c_str());
        archive_entry_set_filetype(e_, type);
        archive_entry_set_perm(e_, static_cast<mode_t>(mode));
        archive_entry_set_uid(e_, uid);
        archive_entry_set_gid(e_, gid);
        archive_entry_set_mtime(e_, 1704067200, 0);
        return e_;
    }
    void write(archive_entry* e, const std::string& content = {}) {
        if (archive_write_header(a_, e) != ARCHIVE_OK)
            throw std::runtime_error(archive_error_string(a_));
        if (!content.empty())
            archive_write_data(a_, content.data(), content.size());
    }

    archive* a_;
    struct EntryDeleter {
        archive_entry* e = archive_entry_new();
        ~EntryDeleter() { archive_entry_free(e); }
    } entry_holder_;
    archive_entry* e_ = entry_holder_.e;
    std::string out_;
    bool closed_ = false;
};

// The uncompressed form of the same entries: what a diff_id is computed over.
inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace raind::images::test
