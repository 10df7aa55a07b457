#include "byte_pipe.hpp"

#include "error.hpp"

namespace raind::images {

namespace {
// HTTP hands bodies over in small reads; joining them keeps the reader's calls few, and the
// reader is woken only for a whole chunk: on a busy machine every wake-up may wait for a tick.
constexpr size_t chunk_size = 256 * 1024;
} // namespace

void BytePipe::write(const void* data, size_t size) {
    if (size == 0)
        return;
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return reader_gone_ || queued_ < capacity_; });
    if (reader_gone_)
        return;
    auto p = static_cast<const char*>(data);
    if (!chunks_.empty() && chunks_.back().size() < chunk_size)
        chunks_.back().append(p, size);
    else
        chunks_.emplace_back(p, size);
    queued_ += size;
    if (readable())
        changed_.notify_all();
}

void BytePipe::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
}

void BytePipe::fail(std::string why) {
    std::lock_guard lock(mutex_);
    if (!failure_)
        failure_ = std::move(why);
    changed_.notify_all();
}

bool BytePipe::readable() const {
    // A whole chunk, or as much as the writer may queue (then it waits for the reader).
    return chunks_.size() > 1 || (!chunks_.empty() && (chunks_.front().size() >= chunk_size || queued_ >= capacity_));
}

size_t BytePipe::read(const void** data) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return failure_ || closed_ || readable(); });
    if (failure_)
        throw Error(*failure_);
    if (chunks_.empty()) {
        *data = nullptr;
        return 0;
    }
    current_ = std::move(chunks_.front());
    chunks_.pop_front();
    queued_ -= current_.size();
    changed_.notify_all();
    *data = current_.data();
    return current_.size();
}

void BytePipe::close_read() {
    std::lock_guard lock(mutex_);
    reader_gone_ = true;
    chunks_.clear();
    queued_ = 0;
    changed_.notify_all();
}

} // namespace raind::images
