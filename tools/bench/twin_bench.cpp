// twin_bench: conversion throughput and memory, with the parsing ceiling measured in the same run.
//
// For each sample and for synthetic PLATEAU-derived files (the Yokosuka LOD2 file replicated with
// fresh gml:ids and shifted positions), runs `twin convert` in a child process (1 and 2 threads,
// with and without Draco) and prints MB/s, buildings/s, peak RSS and output bytes per building.
// The ceiling row is libxml2's SAX2 push parser plus std::from_chars of every coordinate over
// the same bytes, in this process.
//
//   twin_bench [--twin PATH] [--samples DIR] [--sizes-mb 100,500] [--work DIR] [--quick]

#include <fcntl.h>
#include <libxml/parser.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"

namespace sfs = std::filesystem;
using namespace twin::bench;

namespace {

// ---- ceiling: SAX2 + from_chars over posList/pos ----
struct Ceiling {
  bool in = false;
  std::string text;
  uint64_t numbers = 0;
  double sum = 0;
};
void cStart(void* ud, const xmlChar* local, const xmlChar*, const xmlChar*, int, const xmlChar**, int, int,
            const xmlChar**) {
  auto* c = static_cast<Ceiling*>(ud);
  c->in = std::strcmp(reinterpret_cast<const char*>(local), "posList") == 0 ||
          std::strcmp(reinterpret_cast<const char*>(local), "pos") == 0;
  c->text.clear();
}
void cEnd(void* ud, const xmlChar*, const xmlChar*, const xmlChar*) {
  auto* c = static_cast<Ceiling*>(ud);
  if (!c->in) return;
  forEachNumber(c->text.data(), c->text.data() + c->text.size(), [c](double v) {
    c->sum += v;
    ++c->numbers;
  });
  c->in = false;
}
void cChars(void* ud, const xmlChar* ch, int len) {
  auto* c = static_cast<Ceiling*>(ud);
  if (c->in) c->text.append(reinterpret_cast<const char*>(ch), len);
}

double ceilingMBps(const std::string& path, uint64_t& bytes) {
  xmlSAXHandler sax;
  std::memset(&sax, 0, sizeof sax);
  sax.initialized = XML_SAX2_MAGIC;
  sax.startElementNs = cStart;
  sax.endElementNs = cEnd;
  sax.characters = cChars;
  Ceiling c;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  auto t0 = std::chrono::steady_clock::now();
  xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, &c, nullptr, 0, path.c_str());
  std::vector<char> buf(1 << 20);
  bytes = 0;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    bytes += n;
    xmlParseChunk(ctxt, buf.data(), int(n), 0);
  }
  xmlParseChunk(ctxt, nullptr, 0, 1);
  xmlFreeParserCtxt(ctxt);
  std::fclose(f);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return bytes / 1e6 / s;
}

void printRow(const char* input, double mb, const char* config, const RunStats& s) {
  double mbps = s.seconds > 0 ? mb / s.seconds : 0;
  double bps = s.seconds > 0 ? double(s.buildings) / s.seconds : 0;
  std::printf("| %-34s | %9.1f | %-18s | %7.2f | %8.1f | %10.0f | %8.1f | %10.0f | %s\n", input, mb, config, s.seconds,
              mbps, bps, s.maxRssKb / 1024.0, s.buildings ? double(s.outputBytes) / double(s.buildings) : 0.0,
              s.exitCode == 0 ? "ok" : ("exit " + std::to_string(s.exitCode)).c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string twin = (sfs::path(argv[0]).parent_path() / "../twin").string();
  std::string samples = std::string(TWIN_SOURCE_DIR) + "/../shared/samples";
  std::string work = (sfs::temp_directory_path() / "twin-bench").string();
  std::vector<double> sizes{100, 500};
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--twin" && i + 1 < argc)
      twin = argv[++i];
    else if (a == "--samples" && i + 1 < argc)
      samples = argv[++i];
    else if (a == "--work" && i + 1 < argc)
      work = argv[++i];
    else if (a == "--quick")
      quick = true;
    else if (a == "--sizes-mb" && i + 1 < argc) {
      sizes.clear();
      std::stringstream ss(argv[++i]);
      std::string t;
      while (std::getline(ss, t, ',')) sizes.push_back(std::atof(t.c_str()));
    } else {
      std::printf("usage: twin_bench [--twin PATH] [--samples DIR] [--work DIR] [--sizes-mb 100,500] [--quick]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (quick) sizes = {20};
  sfs::create_directories(work);
  std::printf("twin_bench: %s, %u cores\n\n", twin.c_str(), std::thread::hardware_concurrency());
  std::printf("| %-34s | %9s | %-18s | %7s | %8s | %10s | %8s | %10s | status\n", "input", "MB", "config", "s", "MB/s",
              "bldg/s", "RSS MB", "out B/bldg");
  std::printf("|%s|\n", std::string(140, '-').c_str());

  struct Input {
    std::string name, path;
  };
  std::vector<Input> inputs = {
      {"yokosuka LOD2 textured", samples + "/plateau-yokosuka-lod2tex"},
      {"osaka LOD1", samples + "/plateau-osaka-lod1"},
      {"fzk-haus LOD0-3 (UTM32)", samples + "/kit-fzk-haus"},
  };
  for (double mb : sizes) {
    std::string p;
    if (makeSynthetic(samples + "/plateau-yokosuka-lod2tex/udx/bldg/52397519_bldg_6697_op.gml", work + "/synthetic", mb,
                      p))
      inputs.push_back({"synthetic " + std::to_string(int(mb)) + " MB (yokosuka x N)", p});
  }
  // Datasets of several 25 MB files (as PLATEAU ships them: one file per 1 km mesh), read in
  // parallel; memory should not grow with the number of files.
  for (double total : sizes) {
    const int files = std::max(4, int(total / 25));
    const double each = quick ? total / 4 : 25.0;
    std::string dir = work + "/multi" + std::to_string(files) + "x" + std::to_string(int(each));
    bool ok = true;
    for (int i = 0; i < files && ok; ++i) {
      std::string p;
      ok = makeSynthetic(samples + "/plateau-yokosuka-lod2tex/udx/bldg/52397519_bldg_6697_op.gml", dir, each, p,
                         "f" + std::to_string(i), i);
    }
    if (ok)
      inputs.push_back({std::to_string(files) + " files x " + std::to_string(int(each)) + " MB (yokosuka x N)", dir});
  }
  struct Config {
    const char* name;
    std::vector<std::string> args;
  };
  std::vector<Config> configs = {{"1 thread", {"--threads", "1"}},
                                 {"2 threads", {"--threads", "2"}},
                                 {"1 thread, draco", {"--threads", "1", "--draco"}},
                                 {"2 threads, draco", {"--threads", "2", "--draco"}}};
  for (auto& in : inputs) {
    uint64_t inBytes = sfs::is_directory(in.path) ? dirBytes(in.path) : sfs::file_size(in.path);
    double mb = inBytes / 1e6;
    if (!sfs::is_directory(in.path)) {
      uint64_t b = 0;
      double c = ceilingMBps(in.path, b);
      RunStats s;
      s.seconds = mb / c;
      s.exitCode = 0;
      printRow(in.name.c_str(), mb, "ceiling: SAX2+fc", s);
    }
    for (auto& c : configs) {
      std::string out = work + "/out";
      std::vector<std::string> args = {"convert", in.path, "-o", out, "--no-progress", "-q"};
      args.insert(args.end(), c.args.begin(), c.args.end());
      RunStats s = runTwin(twin, args);
      s.outputBytes = dirBytes(out);
      s.buildings = featuresOf(out);
      printRow(in.name.c_str(), mb, c.name, s);
    }
  }
  std::printf(
      "\nMB/s: input bytes / wall time of the whole conversion (read, transform, triangulate, write).\n"
      "RSS: peak resident memory of the twin process. ceiling: libxml2 SAX2 push parser + std::from_chars of\n"
      "every coordinate over the same file, in this process (no conversion).\n");
  return 0;
}
