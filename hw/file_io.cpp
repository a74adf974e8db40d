#include "eie/hw/file_io.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

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

void remove_stale_temporaries(const std::string& path_in) {
    std::string path = path_in;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const fs::path p(path);
    const std::string base = p.filename().string();
    fs::path parent = p.parent_path();
    if (parent.empty()) parent = ".";
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
            std::error_code rec;
            fs::remove_all(it->path(), rec);
        }
    }
}

}  // namespace eie
