// The one temp-and-rename writer (hw/file_io.hpp): old or complete new under
// the final name, nothing left behind, stale temporaries of dead processes
// removed (and a moved-aside directory put back).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "eie/hw/file_io.hpp"

using namespace eie;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "eie_file_io_XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void put(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// A PID that certainly belonged to a process that has ended (a reaped child).
pid_t dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return child;
}

std::size_t entries(const fs::path& dir) {
    return std::size_t(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("file_io: write_file_atomic creates and replaces, leaving no temporary") {
    TempDir t;
    const fs::path f = t.path / "out.json";
    write_file_atomic(f.string(), "first");
    CHECK(slurp(f) == "first");
    write_file_atomic(f.string(), "second, longer");
    CHECK(slurp(f) == "second, longer");
    CHECK(entries(t.path) == 1);
    CHECK_THROWS_AS(write_file_atomic((t.path / "missing" / "x").string(), "x"), FileError);
    CHECK_THROWS_WITH(write_file_atomic((t.path / "missing" / "x").string(), "x"), Catch::Contains("cannot create"));
}

TEST_CASE("file_io: an AtomicFileWriter not committed keeps the old file and removes its temporary") {
    TempDir t;
    const fs::path f = t.path / "w.vcd";
    put(f, "old");
    {
        AtomicFileWriter w(f.string());
        w.write("new, half");
        CHECK(fs::exists(w.temp_path()));
        CHECK(slurp(f) == "old");  // nothing under the final name until commit()
    }
    CHECK(slurp(f) == "old");
    CHECK(entries(t.path) == 1);
    AtomicFileWriter w(f.string());
    w.write("new");
    w.commit();
    CHECK(slurp(f) == "new");
    CHECK_THROWS_AS(w.write("more"), FileError);
}

TEST_CASE("file_io: stale temporaries of dead processes are removed, live ones kept") {
    TempDir t;
    const fs::path f = t.path / "r.json";
    const std::string dead = std::to_string(dead_pid()), live = std::to_string(::getpid());
    put(t.path / ("r.json.tmp-" + dead), "torn");
    fs::create_directory(t.path / ("r.json.old-" + dead));
    put(t.path / ("r.json.tmp-" + live), "mine");
    put(t.path / "r.json.tmp-abc", "not a pid");
    put(t.path / "other.tmp-1", "another name");
    put(f, "current");
    remove_stale_temporaries(f.string());
    CHECK_FALSE(fs::exists(t.path / ("r.json.tmp-" + dead)));
    CHECK_FALSE(fs::exists(t.path / ("r.json.old-" + dead)));
    CHECK(fs::exists(t.path / ("r.json.tmp-" + live)));
    CHECK(fs::exists(t.path / "r.json.tmp-abc"));
    CHECK(fs::exists(t.path / "other.tmp-1"));
    CHECK(slurp(f) == "current");
}

TEST_CASE("file_io: a directory moved aside by a killed replacement is put back") {
    TempDir t;
    const fs::path d = t.path / "img";
    const std::string dead = std::to_string(dead_pid());
    fs::create_directory(t.path / ("img.old-" + dead));
    put(t.path / ("img.old-" + dead) / "manifest.json", "the old image");
    fs::create_directory(t.path / ("img.tmp-" + dead));
    remove_stale_temporaries(d.string());
    CHECK(slurp(d / "manifest.json") == "the old image");
    CHECK(entries(t.path) == 1);
}

TEST_CASE("file_io: replace_directory_atomic replaces a directory whole, or not at all") {
    TempDir t;
    const std::string d = (t.path / "img").string();
    replace_directory_atomic(d, [](const std::string& tmp) { put(fs::path(tmp) / "a", "1"); });
    CHECK(slurp(fs::path(d) / "a") == "1");
    replace_directory_atomic(d + "/", [](const std::string& tmp) { put(fs::path(tmp) / "b", "2"); });
    CHECK_FALSE(fs::exists(fs::path(d) / "a"));
    CHECK(slurp(fs::path(d) / "b") == "2");
    CHECK_THROWS_WITH(replace_directory_atomic(d,
                                               [](const std::string& tmp) {
                                                   put(fs::path(tmp) / "c", "3");
                                                   throw std::runtime_error("fill failed");
                                               }),
                      "fill failed");
    CHECK(slurp(fs::path(d) / "b") == "2");
    CHECK_FALSE(fs::exists(fs::path(d) / "c"));
    CHECK(entries(t.path) == 1);
}
