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
// - AtomicFileWriter, write_file_atomic and replace_directory_atomic are the
//   only temp-and-rename writers: every output of the tools goes through them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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
// running process (left by a killed run). A NAME.old-PID directory is put
// back as NAME when NAME is missing (the run was killed between its two
// renames, on a file system without an atomic exchange). Never throws.
void remove_stale_temporaries(const std::string& path);

// The one temp-and-rename writer of the project, for output produced piece
// by piece (a VCD of hundreds of MB): the constructor removes stale
// temporaries of `path` and creates temp_sibling(path); commit() flushes it
// to disk and renames it over `path`. Destroyed without commit() (an error,
// an exception), it removes the temporary, so `path` keeps its old content.
// Errors throw FileError naming `path`, the temporary and the reason.
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(const std::string& path);
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    void write(const char* data, std::size_t size);
    void write(const std::string& data) { write(data.data(), data.size()); }
    void commit();
    const std::string& path() const { return path_; }
    const std::string& temp_path() const { return tmp_; }

private:
    void discard() noexcept;
    std::string path_, tmp_;
    int fd_ = -1;
    bool committed_ = false;
};

// `content` into `path` through AtomicFileWriter.
void write_file_atomic(const std::string& path, const std::string& content);

// Replaces the directory `dir` (or creates it) with one that fill() writes
// into the directory it is given (temp_sibling(dir)). The new directory takes
// the old one's place with an atomic exchange (renameat2 RENAME_EXCHANGE;
// two renames with NAME.old-PID between them where the file system lacks it),
// so a kill at any moment leaves the old directory or the complete new one.
// A throwing fill() removes the temporary and leaves `dir` untouched; other
// failures throw FileError. Whether `dir` may be replaced is the caller's
// check.
void replace_directory_atomic(const std::string& dir, const std::function<void(const std::string& tmp)>& fill);

}  // namespace eie
