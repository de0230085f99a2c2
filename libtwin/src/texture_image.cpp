// Texture images for glb: JPEG and PNG are embedded as they are; TIFF (seen in real PLATEAU
// data) and other formats stb_image reads are decoded and re-encoded (JPEG when opaque, PNG
// when they carry alpha).
#include <setjmp.h>
#include <tiffio.h>

#include <cstddef>
#include <cstdio>
// jpeglib.h needs size_t and FILE declared first
#include <jpeglib.h>

#include <cstring>

#include "twin/glb_writer.h"
#include "twin/vfs.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#pragma GCC diagnostic ignored "-Wunused-function"

namespace twin {

namespace {

void appendBytes(void* ctx, void* data, int size) {
  auto* v = static_cast<std::vector<uint8_t>*>(ctx);
  v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

bool encodeRgba(const uint8_t* rgba, int w, int h, GlbImage& out) {
  bool opaque = true;
  for (size_t i = 0; i < size_t(w) * h; ++i)
    if (rgba[4 * i + 3] != 255) {
      opaque = false;
      break;
    }
  out.data.clear();
  if (opaque) {
    std::vector<uint8_t> rgb(size_t(w) * h * 3);
    for (size_t i = 0; i < size_t(w) * h; ++i) std::memcpy(&rgb[3 * i], &rgba[4 * i], 3);
    out.mimeType = "image/jpeg";
    return stbi_write_jpg_to_func(appendBytes, &out.data, w, h, 3, rgb.data(), 90) != 0;
  }
  out.mimeType = "image/png";
  return stbi_write_png_to_func(appendBytes, &out.data, w, h, 4, rgba, w * 4) != 0;
}

// libtiff reading from memory.
struct MemTiff {
  const std::vector<uint8_t>* data;
  toff_t pos = 0;
};
tsize_t memRead(thandle_t h, tdata_t buf, tsize_t size) {
  auto* m = static_cast<MemTiff*>(h);
  toff_t left = m->data->size() > m->pos ? m->data->size() - m->pos : 0;
  tsize_t n = static_cast<tsize_t>(std::min<toff_t>(left, size));
  std::memcpy(buf, m->data->data() + m->pos, n);
  m->pos += n;
  return n;
}
tsize_t memWrite(thandle_t, tdata_t, tsize_t) { return 0; }
toff_t memSeek(thandle_t h, toff_t off, int whence) {
  auto* m = static_cast<MemTiff*>(h);
  if (whence == SEEK_SET) m->pos = off;
  else if (whence == SEEK_CUR) m->pos += off;
  else m->pos = m->data->size() + off;
  return m->pos;
}
int memClose(thandle_t) { return 0; }
toff_t memSize(thandle_t h) { return static_cast<MemTiff*>(h)->data->size(); }
int memMap(thandle_t, tdata_t*, toff_t*) { return 0; }
void memUnmap(thandle_t, tdata_t, toff_t) {}

bool decodeTiffRgba(const std::vector<uint8_t>& bytes, RgbaImage& out, std::string& error) {
  TIFFSetWarningHandler(nullptr);
  TIFFSetErrorHandler(nullptr);
  MemTiff m{&bytes};
  TIFF* tif = TIFFClientOpen("mem", "rm", &m, memRead, memWrite, memSeek, memClose, memSize, memMap, memUnmap);
  if (!tif) {
    error = "not a readable TIFF";
    return false;
  }
  uint32_t w = 0, h = 0;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
  if (w == 0 || h == 0 || uint64_t(w) * h > (1ull << 28)) {
    TIFFClose(tif);
    error = "TIFF has an unusable size";
    return false;
  }
  std::vector<uint32_t> raster(size_t(w) * h);
  if (!TIFFReadRGBAImageOriented(tif, w, h, raster.data(), ORIENTATION_TOPLEFT, 0)) {
    TIFFClose(tif);
    error = "TIFF could not be decoded";
    return false;
  }
  TIFFClose(tif);
  out.width = int(w);
  out.height = int(h);
  auto& rgba = out.pixels;
  rgba.resize(size_t(w) * h * 4);
  for (size_t i = 0; i < raster.size(); ++i) {
    uint32_t p = raster[i];
    rgba[4 * i] = TIFFGetR(p);
    rgba[4 * i + 1] = TIFFGetG(p);
    rgba[4 * i + 2] = TIFFGetB(p);
    rgba[4 * i + 3] = TIFFGetA(p);
  }
  return true;
}

bool decodeTiff(const std::vector<uint8_t>& bytes, GlbImage& out, std::string& error) {
  RgbaImage img;
  if (!decodeTiffRgba(bytes, img, error)) return false;
  if (!encodeRgba(img.pixels.data(), img.width, img.height, out)) {
    error = "re-encoding failed";
    return false;
  }
  return true;
}

}  // namespace

bool loadTextureImage(const std::string& uri, GlbImage& out, std::string& error) {
  std::vector<uint8_t> bytes;
  if (!vfs::readAll(uri, bytes, error, 256ull << 20)) return false;
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    int w, h, comp;
    if (!stbi_info_from_memory(bytes.data(), int(bytes.size()), &w, &h, &comp)) {
      error = "corrupt JPEG";
      return false;
    }
    out.mimeType = "image/jpeg";
    out.data = std::move(bytes);
    return true;
  }
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), "\x89PNG\r\n\x1a\n", 8) == 0) {
    int w, h, comp;
    if (!stbi_info_from_memory(bytes.data(), int(bytes.size()), &w, &h, &comp)) {
      error = "corrupt PNG";
      return false;
    }
    out.mimeType = "image/png";
    out.data = std::move(bytes);
    return true;
  }
  if (bytes.size() >= 4 && (std::memcmp(bytes.data(), "II*\0", 4) == 0 || std::memcmp(bytes.data(), "MM\0*", 4) == 0))
    return decodeTiff(bytes, out, error);
  int w = 0, h = 0, comp = 0;
  uint8_t* px = stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &comp, 4);
  if (!px) {
    error = "unsupported or corrupt image format";
    return false;
  }
  bool ok = encodeRgba(px, w, h, out);
  stbi_image_free(px);
  if (!ok) error = "re-encoding failed";
  return ok;
}

namespace {

struct JpegError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
};

void jpegErrorExit(j_common_ptr cinfo) { longjmp(reinterpret_cast<JpegError*>(cinfo->err)->jump, 1); }

// JPEG through libjpeg(-turbo), decoded at 1/2, 1/4 or 1/8 scale (in the DCT: far cheaper than a
// full decode) when that still leaves at least `maxDim` pixels on the longer side.
bool decodeJpegScaled(const std::vector<uint8_t>& bytes, int maxDim, RgbaImage& out, std::string& error) {
  jpeg_decompress_struct cinfo;
  JpegError jerr;
  cinfo.err = jpeg_std_error(&jerr.mgr);
  jerr.mgr.error_exit = jpegErrorExit;
  jerr.mgr.output_message = [](j_common_ptr) {};
  std::vector<uint8_t> row;
  if (setjmp(jerr.jump)) {
    jpeg_destroy_decompress(&cinfo);
    error = "corrupt JPEG";
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  unsigned longer = std::max(cinfo.image_width, cinfo.image_height);
  unsigned denom = 1;
  while (denom < 8 && maxDim > 0 && longer / (denom * 2) >= unsigned(maxDim)) denom *= 2;
  cinfo.scale_num = 1;
  cinfo.scale_denom = denom;
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const unsigned w = cinfo.output_width, h = cinfo.output_height;
  if (w == 0 || h == 0 || uint64_t(w) * h > (1ull << 28)) {
    jpeg_destroy_decompress(&cinfo);
    error = "JPEG has an unusable size";
    return false;
  }
  out.width = int(w);
  out.height = int(h);
  out.pixels.resize(size_t(w) * h * 4);
  row.resize(size_t(w) * 3);
  while (cinfo.output_scanline < h) {
    unsigned y = cinfo.output_scanline;
    JSAMPROW rows[1] = {row.data()};
    jpeg_read_scanlines(&cinfo, rows, 1);
    uint8_t* dst = &out.pixels[size_t(y) * w * 4];
    for (unsigned x = 0; x < w; ++x) {
      dst[4 * x] = row[3 * x];
      dst[4 * x + 1] = row[3 * x + 1];
      dst[4 * x + 2] = row[3 * x + 2];
      dst[4 * x + 3] = 255;
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

bool decodeTextureImage(const std::string& uri, RgbaImage& out, std::string& error, int maxDim) {
  std::vector<uint8_t> bytes;
  if (!vfs::readAll(uri, bytes, error, 256ull << 20)) return false;
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
    return decodeJpegScaled(bytes, maxDim, out, error);
  if (bytes.size() >= 4 && (std::memcmp(bytes.data(), "II*\0", 4) == 0 || std::memcmp(bytes.data(), "MM\0*", 4) == 0))
    return decodeTiffRgba(bytes, out, error);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(bytes.data(), int(bytes.size()), &w, &h, &comp) || w <= 0 || h <= 0 ||
      uint64_t(w) * uint64_t(h) > (1ull << 28)) {
    error = "unsupported, corrupt or oversized image";
    return false;
  }
  uint8_t* px = stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &comp, 4);
  if (!px) {
    error = "unsupported or corrupt image format";
    return false;
  }
  out.width = w;
  out.height = h;
  out.pixels.assign(px, px + size_t(w) * h * 4);
  stbi_image_free(px);
  return true;
}

}  // namespace twin
