#include "draco_encode.h"

#include <draco/compression/encode.h>
#include <draco/mesh/mesh.h>

namespace twin {

bool dracoEncode(const DracoInput& in, int positionBits, int normalBits, int uvBits, int speed, DracoEncoded& out,
                 std::string& error) {
  try {
    draco::Mesh mesh;
    const size_t nv = in.vertexCount;
    mesh.set_num_points(static_cast<uint32_t>(nv));
    auto addAttr = [&](draco::GeometryAttribute::Type type, int comps, const float* data) {
      draco::GeometryAttribute ga;
      ga.Init(type, nullptr, static_cast<uint8_t>(comps), draco::DT_FLOAT32, false, sizeof(float) * comps, 0);
      int id = mesh.AddAttribute(ga, true, static_cast<uint32_t>(nv));
      auto* attr = mesh.attribute(id);
      for (size_t i = 0; i < nv; ++i)
        attr->SetAttributeValue(draco::AttributeValueIndex(static_cast<uint32_t>(i)), data + comps * i);
      return id;
    };
    out.positionId = addAttr(draco::GeometryAttribute::POSITION, 3, in.positions);
    if (in.normals) out.normalId = addAttr(draco::GeometryAttribute::NORMAL, 3, in.normals);
    if (in.uvs) out.uvId = addAttr(draco::GeometryAttribute::TEX_COORD, 2, in.uvs);
    if (in.colors) {
      draco::GeometryAttribute ga;
      ga.Init(draco::GeometryAttribute::COLOR, nullptr, 4, draco::DT_UINT8, true, 4, 0);
      out.colorId = mesh.AddAttribute(ga, true, static_cast<uint32_t>(nv));
      auto* attr = mesh.attribute(out.colorId);
      for (size_t i = 0; i < nv; ++i)
        attr->SetAttributeValue(draco::AttributeValueIndex(static_cast<uint32_t>(i)), in.colors + 4 * i);
    }
    out.featureId = addAttr(draco::GeometryAttribute::GENERIC, 1, in.featureIds);
    for (size_t t = 0; t + 2 < in.indexCount; t += 3) {
      draco::Mesh::Face f;
      for (int k = 0; k < 3; ++k) f[k] = draco::PointIndex(in.indices[t + k]);
      mesh.AddFace(f);
    }
    draco::Encoder enc;
    enc.SetAttributeQuantization(draco::GeometryAttribute::POSITION, positionBits);
    enc.SetAttributeQuantization(draco::GeometryAttribute::NORMAL, normalBits);
    enc.SetAttributeQuantization(draco::GeometryAttribute::TEX_COORD, uvBits);
    // feature ids: no quantisation (exact)
    enc.SetSpeedOptions(speed, speed);
    enc.SetEncodingMethod(draco::MESH_EDGEBREAKER_ENCODING);
    draco::EncoderBuffer buf;
    auto status = enc.EncodeMeshToBuffer(mesh, &buf);
    if (!status.ok()) {
      error = status.error_msg_string();
      return false;
    }
    // Draco may reorder attributes: ids are the unique ids assigned by the mesh.
    out.positionId = mesh.attribute(out.positionId)->unique_id();
    if (out.normalId >= 0) out.normalId = mesh.attribute(out.normalId)->unique_id();
    if (out.uvId >= 0) out.uvId = mesh.attribute(out.uvId)->unique_id();
    if (out.colorId >= 0) out.colorId = mesh.attribute(out.colorId)->unique_id();
    out.featureId = mesh.attribute(out.featureId)->unique_id();
    out.data.assign(buf.data(), buf.data() + buf.size());
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

}  // namespace twin
