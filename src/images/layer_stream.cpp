#include "layer_stream.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <exception>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"

#ifdef RAIND_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

namespace raind::images {

namespace {

constexpr size_t out_size = 256 * 1024;

// The compressed bytes, able to give the first block back once its magic was looked at.
class Input {
public:
    explicit Input(const LayerSource& source) : source_(source) {}
    size_t next(const void** data) {
        if (held_size_) {
            *data = held_;
            return std::exchange(held_size_, 0);
        }
        if (ended_)
            return 0;
        size_t n = source_(data);
        ended_ = n == 0;
        return n;
    }
    // The first bytes, kept for the next call of next().
    std::string_view peek() {
        if (!held_size_ && !ended_ && !peeked_) {
            peeked_ = true;
            held_size_ = next(&held_);
        }
        return {static_cast<const char*>(held_), held_size_};
    }
    bool ended() const noexcept { return ended_ && !held_size_; }

private:
    const LayerSource& source_;
    const void* held_ = nullptr;
    size_t held_size_ = 0;
    bool ended_ = false, peeked_ = false;
};

struct Decoder {
    virtual ~Decoder() = default;
    virtual size_t read(const void** data) = 0;
};

// libarchive's "raw" format with every filter it knows: zstd, plain, and gzip without ISA-L.
class LibarchiveDecoder final : public Decoder {
public:
    LibarchiveDecoder(Input& input, const std::string& name) : input_(input), name_(name), buffer_(out_size) {
        raw_ = archive_read_new();
        if (!raw_)
            throw Error("libarchive: out of memory");
        archive_read_support_filter_all(raw_);
        archive_read_support_format_raw(raw_);
        archive_entry* entry = nullptr;
        if (archive_read_open(raw_, this, nullptr, callback, nullptr) != ARCHIVE_OK ||
            archive_read_next_header(raw_, &entry) != ARCHIVE_OK)
            fail("");
    }
    ~LibarchiveDecoder() override { archive_read_free(raw_); }

    size_t read(const void** data) override {
        la_ssize_t n = archive_read_data(raw_, buffer_.data(), buffer_.size());
        if (n < 0)
            fail("damaged archive: ");
        *data = buffer_.data();
        return static_cast<size_t>(n);
    }

private:
    static la_ssize_t callback(archive* a, void* ctx, const void** out) {
        auto* self = static_cast<LibarchiveDecoder*>(ctx);
        try {
            return static_cast<la_ssize_t>(self->input_.next(out));
        } catch (...) { // never through C code
            self->source_error_ = std::current_exception();
            archive_set_error(a, EIO, "the layer's bytes stopped coming");
            return -1;
        }
    }
    [[noreturn]] void fail(const std::string& what) {
        if (source_error_)
            std::rethrow_exception(source_error_);
        const char* text = archive_error_string(raw_);
        throw Error("layer " + name_ + ": " + what + (text ? text : "libarchive gave no reason"));
    }

    Input& input_;
    const std::string& name_;
    archive* raw_ = nullptr;
    std::vector<char> buffer_;
    std::exception_ptr source_error_;
};

#ifdef RAIND_HAVE_ISAL
const char* isal_error(int r) {
    switch (r) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid deflate distance";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported gzip compression method";
    case ISAL_INCORRECT_CHECKSUM: return "gzip checksum mismatch";
    default: return "inflate failed";
    }
}

// gzip with ISA-L; concatenated members (gzip allows them) are read one after the other.
class IsalGzipDecoder final : public Decoder {
public:
    IsalGzipDecoder(Input& input, const std::string& name) : input_(input), name_(name), buffer_(out_size) {
        isal_inflate_init(&state_);
        state_.crc_flag = ISAL_GZIP;
    }

    size_t read(const void** data) override {
        while (!finished_) {
            if (state_.avail_in == 0 && !input_.ended())
                feed();
            state_.next_out = buffer_.data();
            state_.avail_out = static_cast<uint32_t>(buffer_.size());
            uint32_t avail_before = state_.avail_in;
            int r = isal_inflate(&state_);
            if (r < 0)
                throw Error("layer " + name_ + ": damaged archive: " + isal_error(r));
            size_t produced = buffer_.size() - state_.avail_out;
            if (state_.block_state == ISAL_BLOCK_FINISH)
                next_member();
            else if (produced == 0 && state_.avail_in == avail_before) // no progress: input ended early
                throw Error("layer " + name_ + ": damaged archive: truncated gzip data");
            if (produced) {
                *data = buffer_.data();
                return produced;
            }
        }
        return 0;
    }

private:
    void feed() {
        const void* p = nullptr;
        size_t n = input_.next(&p);
        state_.next_in = static_cast<uint8_t*>(const_cast<void*>(p));
        state_.avail_in = static_cast<uint32_t>(n);
    }
    // Another member follows when the next bytes are a gzip header; anything else after a
    // member is ignored, as gzip -d and libarchive do.
    void next_member() {
        if (state_.avail_in == 0 && !input_.ended())
            feed();
        if (state_.avail_in >= 2 && state_.next_in[0] == 0x1f && state_.next_in[1] == 0x8b) {
            uint8_t* in = state_.next_in;
            uint32_t avail = state_.avail_in;
            isal_inflate_reset(&state_);
            state_.crc_flag = ISAL_GZIP;
            state_.next_in = in;
            state_.avail_in = avail;
            return;
        }
        finished_ = true;
    }

    Input& input_;
    const std::string& name_;
    inflate_state state_{};
    std::vector<uint8_t> buffer_;
    bool finished_ = false;
};
#endif

} // namespace

struct DecompressedStream::Impl {
    Impl(const LayerSource& source, std::string n) : input(source), name(std::move(n)) {}
    Input input;
    std::string name;
    std::unique_ptr<Decoder> decoder;
};

DecompressedStream::DecompressedStream(const LayerSource& source, std::string name)
    : impl_(std::make_unique<Impl>(source, std::move(name))) {
#ifdef RAIND_HAVE_ISAL
    std::string_view head = impl_->input.peek();
    if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b) {
        impl_->decoder = std::make_unique<IsalGzipDecoder>(impl_->input, impl_->name);
        return;
    }
#endif
    impl_->decoder = std::make_unique<LibarchiveDecoder>(impl_->input, impl_->name);
}

DecompressedStream::~DecompressedStream() = default;

size_t DecompressedStream::read(const void** data) { return impl_->decoder->read(data); }

void DecompressedStream::drain() {
    const void* unused = nullptr;
    while (impl_->input.next(&unused) > 0) {
    }
}

} // namespace raind::images
