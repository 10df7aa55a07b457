// Hands a layer's bytes from the thread downloading it to the thread unpacking it, so a layer
// is unpacked while it arrives instead of after. Bounded: the writer waits while `capacity`
// bytes are queued, so a slow disk slows the download instead of filling memory.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace raind::images {

class BytePipe {
public:
    explicit BytePipe(size_t capacity = size_t{8} << 20) : capacity_(capacity) {}

    // Writer side. Once the reader has gone (close_read), bytes are dropped: the download goes
    // on so its digest still gets checked.
    void write(const void* data, size_t size);
    // The end of the bytes: read() returns 0 once the queue is drained.
    void close();
    // The bytes will never be complete (download failed or was cancelled): read() throws an
    // Error with `why`.
    void fail(std::string why);

    // Reader side: blocks for the next bytes (a chunk of 256 KiB unless the end came first),
    // points *data at them (valid until the next call) and returns their size; 0 at the end.
    size_t read(const void** data);
    // The reader stopped reading (it failed): writes no longer wait.
    void close_read();

private:
    bool readable() const;

    const size_t capacity_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::string> chunks_;
    size_t queued_ = 0;
    std::string current_; // what the reader holds
    bool closed_ = false, reader_gone_ = false;
    std::optional<std::string> failure_;
};

} // namespace raind::images
