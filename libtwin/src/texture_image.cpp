// Texture images for glb: JPEG and PNG are embedded as they are; TIFF (seen in real PLATEAU
// data) and other formats stb_image reads are decoded and re-encoded (JPEG when opaque, PNG
// when they carry alpha).
#include <setjmp.h>
#include <tiffio.h>

#include <cstddef>
#include <cstdio>
// jpeglib.h needs size_t and FILE declared first
#include <jpeglib.h>
#include <webp/encode.h>

#include <algorithm>
#include <array>
#include <cmath>
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

bool isOpaque(const uint8_t* rgba, size_t pixels) {
  for (size_t i = 0; i < pixels; ++i)
    if (rgba[4 * i + 3] != 255) return false;
  return true;
}

bool encodeRgba(const uint8_t* rgba, int w, int h, GlbImage& out) {
  out.data.clear();
  if (isOpaque(rgba, size_t(w) * h)) {
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
  if (whence == SEEK_SET)
    m->pos = off;
  else if (whence == SEEK_CUR)
    m->pos += off;
  else
    m->pos = m->data->size() + off;
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

namespace {

// Bilinear resize of RGBA pixels.
RgbaImage resized(const RgbaImage& in, int w, int h) {
  RgbaImage out;
  out.width = w;
  out.height = h;
  out.pixels.resize(size_t(w) * h * 4);
  for (int y = 0; y < h; ++y) {
    float fy = std::max(0.0f, (y + 0.5f) * float(in.height) / float(h) - 0.5f);
    int y0 = std::min(int(fy), in.height - 1), y1 = std::min(y0 + 1, in.height - 1);
    float ty = fy - float(y0);
    for (int x = 0; x < w; ++x) {
      float fx = std::max(0.0f, (x + 0.5f) * float(in.width) / float(w) - 0.5f);
      int x0 = std::min(int(fx), in.width - 1), x1 = std::min(x0 + 1, in.width - 1);
      float tx = fx - float(x0);
      for (int c = 0; c < 4; ++c) {
        auto px = [&](int xx, int yy) { return float(in.pixels[(size_t(yy) * in.width + xx) * 4 + c]); };
        float v = (px(x0, y0) * (1 - tx) + px(x1, y0) * tx) * (1 - ty) + (px(x0, y1) * (1 - tx) + px(x1, y1) * tx) * ty;
        out.pixels[(size_t(y) * w + x) * 4 + c] = uint8_t(std::lround(std::clamp(v, 0.0f, 255.0f)));
      }
    }
  }
  return out;
}

// JPEG through libjpeg(-turbo): 4:2:0 chroma subsampling, optimised Huffman tables.
bool encodeJpeg(const RgbaImage& img, int quality, std::vector<uint8_t>& out) {
  jpeg_compress_struct cinfo;
  JpegError jerr;
  cinfo.err = jpeg_std_error(&jerr.mgr);
  jerr.mgr.error_exit = jpegErrorExit;
  unsigned char* mem = nullptr;
  unsigned long size = 0;
  std::vector<uint8_t> row(size_t(img.width) * 3);
  if (setjmp(jerr.jump)) {
    jpeg_destroy_compress(&cinfo);
    free(mem);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &mem, &size);
  cinfo.image_width = JDIMENSION(img.width);
  cinfo.image_height = JDIMENSION(img.height);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.optimize_coding = TRUE;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    const uint8_t* src = &img.pixels[size_t(cinfo.next_scanline) * img.width * 4];
    for (int x = 0; x < img.width; ++x) std::memcpy(&row[3 * x], &src[4 * x], 3);
    JSAMPROW rows[1] = {row.data()};
    jpeg_write_scanlines(&cinfo, rows, 1);
  }
  jpeg_finish_compress(&cinfo);
  out.assign(mem, mem + size);
  jpeg_destroy_compress(&cinfo);
  free(mem);
  return true;
}

bool encodeImage(const RgbaImage& img, const TextureSetOptions& o, GlbImage& out) {
  const bool opaque = isOpaque(img.pixels.data(), img.pixels.size() / 4);
  if (o.webp) {
    uint8_t* data = nullptr;
    size_t n = opaque ? WebPEncodeRGBA(img.pixels.data(), img.width, img.height, img.width * 4, float(o.quality), &data)
                      : WebPEncodeLosslessRGBA(img.pixels.data(), img.width, img.height, img.width * 4, &data);
    if (n == 0) return false;
    out.mimeType = "image/webp";
    out.data.assign(data, data + n);
    WebPFree(data);
    return true;
  }
  if (opaque) {
    out.mimeType = "image/jpeg";
    return encodeJpeg(img, o.quality, out.data);
  }
  return encodeRgba(img.pixels.data(), img.width, img.height, out);
}

}  // namespace

std::vector<GlbImage> buildTileTextures(const std::vector<TextureUse>& uses, const TextureSetOptions& o,
                                        std::vector<TexturePlacement>& placements,
                                        std::vector<std::pair<std::string, std::string>>& errors) {
  std::vector<GlbImage> images;
  placements.assign(uses.size(), TexturePlacement{});
  const int maxSize = std::max(16, o.imageMaxSize > 0 ? std::min(o.maxSize, o.imageMaxSize) : o.maxSize);
  const int atlasMax = std::max(64, o.maxSize);
  struct Item {
    size_t use;
    RgbaImage img;
  };
  std::vector<Item> atlasItems;
  // A texture alone and small enough goes in as the file is (no re-encoding).
  auto asItIs = [&](size_t use) {
    if (o.imageMaxSize != 0) return false;
    GlbImage raw;
    std::string err;
    int w = 0, h = 0, comp = 0;
    if (!loadTextureImage(uses[use].uri, raw, err) ||
        !stbi_info_from_memory(raw.data.data(), int(raw.data.size()), &w, &h, &comp) || w > maxSize || h > maxSize)
      return false;
    placements[use].image = int(images.size());
    images.push_back(std::move(raw));
    return true;
  };
  for (size_t i = 0; i < uses.size(); ++i) {
    const TextureUse& u = uses[i];
    const bool inUnit = u.uMin >= -0.001f && u.uMax <= 1.001f && u.vMin >= -0.001f && u.vMax <= 1.001f;
    std::string err;
    if (!(o.atlas && inUnit) && asItIs(i)) continue;
    RgbaImage img;
    if (!decodeTextureImage(u.uri, img, err, o.decodeMaxDim)) {
      errors.push_back({u.uri, err});
      continue;
    }
    if (img.width > maxSize || img.height > maxSize) {
      double f = double(maxSize) / std::max(img.width, img.height);
      img = resized(img, std::max(1, int(img.width * f)), std::max(1, int(img.height * f)));
    }
    if (o.atlas && inUnit) {
      atlasItems.push_back({i, std::move(img)});
      continue;
    }
    GlbImage enc;
    if (!encodeImage(img, o, enc)) {
      errors.push_back({u.uri, "re-encoding failed"});
      continue;
    }
    placements[i].image = int(images.size());
    images.push_back(std::move(enc));
  }
  if (atlasItems.empty()) return images;
  if (atlasItems.size() == 1) {
    // one texture: no atlas needed
    const auto& it = atlasItems[0];
    if (asItIs(it.use)) return images;
    GlbImage enc;
    if (!encodeImage(it.img, o, enc)) {
      errors.push_back({uses[it.use].uri, "re-encoding failed"});
      return images;
    }
    placements[it.use].image = int(images.size());
    images.push_back(std::move(enc));
    return images;
  }
  // Shelf packing, tallest first, 2 px of edge padding around each image (mipmaps bleed less);
  // everything halves until the atlas fits maxSize.
  const int pad = 2;
  std::vector<size_t> order(atlasItems.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return atlasItems[a].img.height != atlasItems[b].img.height ? atlasItems[a].img.height > atlasItems[b].img.height
                                                                : a < b;
  });
  double scale = 1.0;
  std::vector<std::array<int, 4>> rect(atlasItems.size());  // x, y, w, h (without padding)
  int atlasW = 0, atlasH = 0;
  for (int attempt = 0; attempt < 12; ++attempt, scale *= 0.5) {
    double area = 0;
    for (auto& it : atlasItems) area += (it.img.width * scale + 2 * pad) * (it.img.height * scale + 2 * pad);
    int width = 64;
    while (width < atlasMax && double(width) * width < area * 1.15) width *= 2;
    int x = 0, y = 0, shelf = 0;
    bool fits = true;
    for (size_t k : order) {
      int w = std::max(1, int(atlasItems[k].img.width * scale)), h = std::max(1, int(atlasItems[k].img.height * scale));
      if (x + w + 2 * pad > width) {
        x = 0;
        y += shelf;
        shelf = 0;
      }
      if (w + 2 * pad > width) {
        fits = false;
        break;
      }
      rect[k] = {x + pad, y + pad, w, h};
      x += w + 2 * pad;
      shelf = std::max(shelf, h + 2 * pad);
    }
    int height = y + shelf;
    if (fits && height <= atlasMax) {
      atlasW = width;
      atlasH = height;
      break;
    }
  }
  if (atlasW == 0) {
    for (auto& it : atlasItems) errors.push_back({uses[it.use].uri, "too many textures for one atlas"});
    return images;
  }
  RgbaImage atlas;
  atlas.width = atlasW;
  atlas.height = atlasH;
  atlas.pixels.assign(size_t(atlasW) * atlasH * 4, 0);
  for (size_t i = 3; i < atlas.pixels.size(); i += 4) atlas.pixels[i] = 255;  // unused space: opaque
  const int index = int(images.size());
  for (size_t k = 0; k < atlasItems.size(); ++k) {
    auto [rx, ry, rw, rh] = rect[k];
    RgbaImage img = (rw == atlasItems[k].img.width && rh == atlasItems[k].img.height)
                        ? std::move(atlasItems[k].img)
                        : resized(atlasItems[k].img, rw, rh);
    for (int y = -pad; y < rh + pad; ++y)
      for (int x = -pad; x < rw + pad; ++x) {
        int sx = std::clamp(x, 0, rw - 1), sy = std::clamp(y, 0, rh - 1);  // edges extended into the padding
        std::memcpy(&atlas.pixels[(size_t(ry + y) * atlasW + (rx + x)) * 4], &img.pixels[(size_t(sy) * rw + sx) * 4],
                    4);
      }
    TexturePlacement& p = placements[atlasItems[k].use];
    p.image = index;
    p.scaleU = float(rw) / float(atlasW);
    p.scaleV = float(rh) / float(atlasH);
    p.offsetU = float(rx) / float(atlasW);
    p.offsetV = float(ry) / float(atlasH);
  }
  GlbImage enc;
  if (!encodeImage(atlas, o, enc)) {
    for (auto& it : atlasItems) errors.push_back({uses[it.use].uri, "atlas encoding failed"});
    for (auto& it : atlasItems) placements[it.use].image = -1;
    return images;
  }
  images.push_back(std::move(enc));
  return images;
}

}  // namespace twin
