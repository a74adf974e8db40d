#include "eie/hw/file_io.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace eie {

namespace fs = std::filesystem;

RegularFile::RegularFile(const std::string& path, const std::string& what) : path_(path), what_(what) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
    fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) throw FileError(fmt::format("{}: cannot open {} file: {}", path, what, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        const int err = errno;
        ::close(fd_);
        throw FileError(fmt::format("{}: cannot stat {} file: {}", path, what, std::strerror(err)));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                           : S_ISFIFO(st.st_mode) ? "a FIFO"
                           : S_ISCHR(st.st_mode)  ? "a character device"
                           : S_ISBLK(st.st_mode)  ? "a block device"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                                                  : "not a regular file";
        throw FileError(fmt::format("{}: {} file is {} (only regular files are read)", path, what, kind));
    }
    size_ = uint64_t(st.st_size);
}

RegularFile::~RegularFile() {
    if (fd_ >= 0) ::close(fd_);
}

std::string RegularFile::read_at(uint64_t offset, uint64_t count) const {
    if (offset > size_ || count > size_ - offset)
        throw FileError(fmt::format("{}: {} bytes at offset {} lie beyond the end of the {}-byte {} file", path_, count,
                                    offset, size_, what_));
    std::string out(count, '\0');
    uint64_t done = 0;
    while (done < count) {
        const ssize_t n = ::pread(fd_, &out[done], count - done, off_t(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw FileError(fmt::format("{}: read error: {}", path_, std::strerror(errno)));
        if (n == 0)  // the file shrank while being read
            throw FileError(fmt::format("{}: ends after {} bytes, expected {} (changed while being read?)", path_,
                                        offset + done, offset + count));
        done += uint64_t(n);
    }
    return out;
}

std::string RegularFile::read_all(uint64_t max_bytes) const {
    if (size_ > max_bytes)
        throw FileError(fmt::format("{}: {} file has {} bytes, more than the {} its contents can need", path_, what_,
                                    size_, max_bytes));
    return read_at(0, size_);
}

std::string printable(const std::string& s, std::size_t max_len) {
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max_len; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 32 && c < 127) out += char(c);
        else out += fmt::format("\\x{:02x}", c);
    }
    if (s.size() > max_len) out += "...";
    return out;
}

std::string read_regular_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
    return RegularFile(path, what).read_all(max_bytes);
}

std::string temp_sibling(const std::string& path) { return fmt::format("{}.tmp-{}", path, ::getpid()); }

namespace {

std::string without_trailing_slashes(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

}  // namespace

void remove_stale_temporaries(const std::string& path_in) {
    const std::string path = without_trailing_slashes(path_in);
    const fs::path p(path);
    const std::string base = p.filename().string();
    fs::path parent = p.parent_path();
    if (parent.empty()) parent = ".";
    std::vector<fs::path> stale_tmp, stale_old;
    std::error_code ec;
    fs::directory_iterator it(parent, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        for (const char* tag : {".tmp-", ".old-"}) {
            const std::string prefix = base + tag;
            if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
            const std::string digits = name.substr(prefix.size());
            if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
            const long pid = std::stol(digits);
            // ESRCH: no such process, so nobody is writing it any more.
            if (pid <= 0 || (::kill(pid_t(pid), 0) == 0 || errno != ESRCH)) continue;
            (tag[1] == 't' ? stale_tmp : stale_old).push_back(it->path());
        }
    }
    // A run killed between the two renames of the fallback replacement left
    // the previous directory as NAME.old-PID and nothing under NAME: put it back.
    std::error_code sec;
    if (!stale_old.empty() && !fs::exists(fs::symlink_status(p, sec))) {
        std::error_code rec;
        fs::rename(stale_old.back(), p, rec);
        if (!rec) stale_old.pop_back();
    }
    for (const auto* list : {&stale_tmp, &stale_old})
        for (const auto& victim : *list) {
            std::error_code rec;
            fs::remove_all(victim, rec);
        }
}

AtomicFileWriter::AtomicFileWriter(const std::string& path) : path_(path), tmp_(temp_sibling(path)) {
    remove_stale_temporaries(path_);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) throw FileError(fmt::format("'{}': cannot create '{}': {}", path_, tmp_, std::strerror(errno)));
}

AtomicFileWriter::~AtomicFileWriter() { discard(); }

void AtomicFileWriter::discard() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFileWriter::write(const char* data, std::size_t size) {
    if (fd_ < 0) throw FileError(fmt::format("'{}': written after it was committed or discarded", path_));
    while (size > 0) {
        const ssize_t n = ::write(fd_, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : EIO;
            discard();
            throw FileError(fmt::format("'{}': cannot write '{}': {}", path_, tmp_, std::strerror(err)));
        }
        data += n;
        size -= std::size_t(n);
    }
}

void AtomicFileWriter::commit() {
    if (fd_ < 0) throw FileError(fmt::format("'{}': committed twice or after an error", path_));
    // fsync first: after a power loss the rename must not point at a file whose data never reached the disk.
    if (::fsync(fd_) != 0 || ::close(std::exchange(fd_, -1)) != 0) {
        const int err = errno;
        discard();
        throw FileError(fmt::format("'{}': cannot write '{}': {}", path_, tmp_, std::strerror(err)));
    }
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
        const int err = errno;
        discard();
        throw FileError(fmt::format("'{}': cannot rename '{}' into place: {}", path_, tmp_, std::strerror(err)));
    }
    committed_ = true;
}

void write_file_atomic(const std::string& path, const std::string& content) {
    AtomicFileWriter out(path);
    out.write(content);
    out.commit();
}

void replace_directory_atomic(const std::string& dir_in, const std::function<void(const std::string& tmp)>& fill) {
    const std::string dir = without_trailing_slashes(dir_in);
    remove_stale_temporaries(dir);
    const std::string tmp = temp_sibling(dir);
    std::error_code ec;
    fs::remove_all(tmp, ec);  // left over by an earlier run with the same pid
    if (!fs::create_directory(tmp, ec))
        throw FileError(fmt::format("'{}': cannot create '{}': {}", dir, tmp, ec ? ec.message() : "it already exists"));
    // The reason first: errno must be read before anything else can change it.
    auto fail = [&](int err, const std::string& what) {
        std::error_code ignored;
        fs::remove_all(tmp, ignored);
        return FileError(fmt::format("'{}': {}: {}", dir, what, std::strerror(err)));
    };
    try {
        fill(tmp);
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
    if (!fs::exists(fs::symlink_status(dir, ec))) {
        if (std::rename(tmp.c_str(), dir.c_str()) != 0) {
            const int err = errno;
            throw fail(err, fmt::format("cannot rename '{}' into place", tmp));
        }
        return;
    }
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
        fs::remove_all(tmp, ec);  // now the previous directory
        return;
    }
    if (const int err = errno; err != EINVAL && err != ENOSYS && err != EOPNOTSUPP)
        throw fail(err, fmt::format("cannot exchange '{}' with it", tmp));
    // No atomic exchange here: two renames, the previous directory kept as
    // NAME.old-PID in between (remove_stale_temporaries puts it back after a kill).
    const std::string old = fmt::format("{}.old-{}", dir, ::getpid());
    fs::remove_all(old, ec);
    if (std::rename(dir.c_str(), old.c_str()) != 0) {
        const int err = errno;
        throw fail(err, fmt::format("cannot move it aside to '{}'", old));
    }
    if (std::rename(tmp.c_str(), dir.c_str()) != 0) {
        const int err = errno;
        std::rename(old.c_str(), dir.c_str());  // put the previous directory back
        throw fail(err, fmt::format("cannot rename '{}' into place", tmp));
    }
    fs::remove_all(old, ec);
}

}  // namespace eie
