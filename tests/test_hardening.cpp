// Hardening (issue 7): the malformed-input corpus (tests/hardening/make_corpus.py: 60+ broken or
// hostile files of every format, each with the diagnostic and exit code it must give, and no
// half-written output); kill -9 at random points of a conversion, then a rerun, gives the same
// tileset as a clean run; and the inputs fuzzing found (tests/hardening/regressions/) replayed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "../viewer-server/src/http.h"
#include "test_support.h"
#include "twin/citygml/citygml_reader.h"
#include "twin/cityjson/cityjson_reader.h"
#include "twin/mojxml/mojxml_reader.h"

using namespace twin;
using namespace twin::test;
namespace sfs = std::filesystem;

namespace {

std::string hardeningDir() { return std::string(TWIN_SOURCE_DIR) + "/tests/hardening"; }

std::vector<std::string> splitTabs(const std::string& line) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    size_t t = line.find('\t', pos);
    out.push_back(line.substr(pos, t == std::string::npos ? std::string::npos : t - pos));
    if (t == std::string::npos) break;
    pos = t + 1;
  }
  return out;
}

// Every file under `dir` with its bytes (name -> bytes), sorted; hidden entries left out.
std::map<std::string, std::string> tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto it = sfs::recursive_directory_iterator(dir); it != sfs::recursive_directory_iterator(); ++it) {
    std::string rel = sfs::relative(it->path(), dir).string();
    if (it->path().filename().string()[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) out[rel] = readText(it->path().string());
  }
  return out;
}

struct Null : ObjectSink {
  bool accept(CityObject&&) override { return true; }
};

}  // namespace

TEST_CASE("Malformed and hostile inputs: a clear diagnostic, the right exit code, nothing half-written",
          "[hardening]") {
  std::string dir = tempDir("corpus");
  auto gen = run("python3 " + hardeningDir() + "/make_corpus.py " + samples("") + " " + dir + "/in");
  INFO(gen.output);
  REQUIRE(gen.exitCode == 0);
  std::ifstream tsv(dir + "/in/corpus.tsv");
  std::string line;
  size_t cases = 0;
  std::set<std::string> formats;
  while (std::getline(tsv, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto f = splitTabs(line);
    REQUIRE(f.size() == 4);
    const std::string &file = f[0], &args = f[1], &code = f[2];
    int want = std::stoi(f[3]);
    formats.insert(file.substr(0, file.find('-')));
    std::string out = dir + "/out-" + file;
    auto r = runTwin("convert '" + dir + "/in/" + file + "' " + args + " -o '" + out + "' --no-progress");
    INFO(file << " " << args << "\n" << r.output);
    CHECK(r.exitCode == want);  // runTwin reports a signal as an exit code above 128: never expected
    CHECK(r.output.find("[" + code + "]") != std::string::npos);
    // The diagnostic names the file.
    bool named = false;
    std::istringstream lines(r.output);
    for (std::string l; std::getline(lines, l);)
      if (l.find("[" + code + "]") != std::string::npos &&
          (l.find(file) != std::string::npos || code == "nothing-converted"))
        named = true;
    CHECK(named);
    if (want == 1)
      CHECK_FALSE(sfs::exists(out));  // nothing written
    else
      CHECK(sfs::exists(out + "/tileset.json"));
    // No staging directory left behind.
    for (auto& e : sfs::directory_iterator(dir))
      CHECK(e.path().filename().string().find(".twin-tmp-") == std::string::npos);
    ++cases;
  }
  CHECK(cases >= 50);
  CHECK(formats.size() >= 8);  // gml gml3 cj cjseq moj ogr mesh cloud zip
}

TEST_CASE("kill -9 at random points of a conversion, then a rerun: the same tileset as a clean run", "[hardening]") {
  std::string dir = tempDir("kill9");
  std::string inputs = std::string(TWIN_SOURCE_DIR) + "/samples/plateau-yokosuka " + samples("plateau-osaka-lod1");
  auto clean = runTwin("convert " + inputs + " -o " + dir + "/clean --threads 2 -q --no-progress");
  REQUIRE(clean.exitCode == 0);
  validateOutput(dir + "/clean");
  auto reference = tree(dir + "/clean");
  REQUIRE(reference.count("tileset.json"));
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> delay(5, 400);
  int killed = 0;
  for (int round = 0; round < 8; ++round) {
    std::string out = dir + "/run";
    int ms = delay(rng);
    pid_t pid = fork();
    if (pid == 0) {
      std::string cmd = std::string("exec ") + twinExe() + " convert " + inputs + " -o " + out +
                        " --threads 2 -q --no-progress >/dev/null 2>&1";
      execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ++killed;
    }
    INFO("round " << round << ", killed after " << ms << " ms");
    // Whatever the kill left: no tileset that looks complete but is not.
    if (sfs::exists(out + "/tileset.json")) {
      auto partial = tree(out);
      CHECK(partial.size() >= reference.size());  // a tileset only ever appears whole
    }
    auto rerun = runTwin("convert " + inputs + " -o " + out + " --threads 2 -q --no-progress");
    REQUIRE(rerun.exitCode == 0);
    auto got = tree(out);
    CHECK(got.size() == reference.size());
    for (auto& [name, bytes] : reference) {
      INFO(name);
      REQUIRE(got.count(name));
      CHECK(got[name] == bytes);
    }
    // No staging directory of the killed run is left.
    for (auto& e : sfs::directory_iterator(dir))
      CHECK(e.path().filename().string().find(".twin-tmp-") == std::string::npos);
  }
  CHECK(killed > 0);  // some rounds did kill a run in progress
}

TEST_CASE("Inputs fuzzing found are read without crashing", "[hardening]") {
  // tests/hardening/fuzz.sh copies what libFuzzer finds here; each must now be read cleanly.
  std::string base = hardeningDir() + "/regressions";
  size_t replayed = 0;
  if (!sfs::exists(base)) return;
  for (auto& target : sfs::directory_iterator(base)) {
    std::string t = target.path().filename().string();
    for (auto& e : sfs::directory_iterator(target.path())) {
      INFO(e.path());
      std::string bytes = readText(e.path().string());
      DiagnosticCollector diag;
      ReadStats stats;
      Null sink;
      ReadOptions o;
      o.objectTypes = {"*"};
      std::string tmp = tempDir("replay") + "/input";
      if (t == "citygml") {
        writeText(tmp + ".gml", bytes);
        citygml::createReader()->read(tmp + ".gml", o, sink, diag, stats);
      } else if (t == "cityjson") {
        if (bytes.empty()) continue;
        std::string ext = (bytes[0] & 1) ? ".city.jsonl" : ".json";
        if (bytes[0] & 2) o.crsOverride = "EPSG:6677";
        writeText(tmp + ext, bytes.substr(1));
        cityjson::createReader()->read(tmp + ext, o, sink, diag, stats);
      } else if (t == "mojxml") {
        writeText(tmp + ".xml", bytes);
        mojxml::createReader()->read(tmp + ".xml", o, sink, diag, stats);
      } else if (t == "http") {
        viewer::http::Request req;
        viewer::http::parseRequestHead(bytes.substr(0, bytes.find("\r\n\r\n")), req);
      } else {
        continue;  // api: replayed by fuzz.sh against a store
      }
      for (auto& d : diag.diagnostics()) CHECK(!d.code.empty());
      ++replayed;
    }
  }
  WARN(replayed << " fuzzing findings replayed");
}
