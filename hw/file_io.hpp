// Reading files that may be hostile, and writing files so that a crash or a
// kill at any moment leaves either the old file or the complete new one.
//
// - RegularFile refuses anything that is not a regular file (a FIFO would
//   block forever, /dev/zero would never end) and reads exactly the bytes it
//   is asked for, so a size taken from a header is checked against the real
//   size before anything is allocated.
// - Temporaries are siblings named NAME.tmp-PID (and NAME.old-PID for a
//   replaced directory); remove_stale_temporaries() deletes those whose
//   process no longer exists, so a killed run leaves nothing a rerun trips
//   over, and writers call it before they start.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace eie {

// Any failure to open, stat or read: the message names the file and why.
struct FileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class RegularFile {
public:
    // `what` names the kind of file in messages ("hex", ".npy", ...).
    RegularFile(const std::string& path, const std::string& what);
    ~RegularFile();
    RegularFile(const RegularFile&) = delete;
    RegularFile& operator=(const RegularFile&) = delete;

    uint64_t size() const { return size_; }
    const std::string& path() const { return path_; }
    // Exactly `count` bytes from `offset` (which must lie inside the file).
    std::string read_at(uint64_t offset, uint64_t count) const;
    // The whole file, refused (before reading) when it is larger than max_bytes.
    std::string read_all(uint64_t max_bytes) const;

private:
    std::string path_, what_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

// `s` for an error message: bytes outside printable ASCII (NUL, control,
// non-ASCII) as \xNN, cut after max_len characters with "...".
std::string printable(const std::string& s, std::size_t max_len = 40);

// Convenience: RegularFile(path, what).read_all(max_bytes).
std::string read_regular_file(const std::string& path, const std::string& what, uint64_t max_bytes);

// The temporary sibling this process writes before renaming into `path`.
std::string temp_sibling(const std::string& path);
// Removes NAME.tmp-PID and NAME.old-PID siblings of `path` whose PID is not a
// running process (left by a killed run). Never throws.
void remove_stale_temporaries(const std::string& path);

}  // namespace eie
