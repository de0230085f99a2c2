#include "twin/triangulate.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace twin {

const char* triangulationStatusName(TriangulationStatus s) {
  switch (s) {
    case TriangulationStatus::Ok:
      return "ok";
    case TriangulationStatus::TooFewPoints:
      return "too few points";
    case TriangulationStatus::ZeroArea:
      return "zero area";
    case TriangulationStatus::Failed:
      return "failed";
  }
  return "?";
}

namespace {

struct Node {
  uint32_t i;
  double x, y;
  Node* prev = nullptr;
  Node* next = nullptr;
  bool steiner = false;
};

class Earcut {
 public:
  std::vector<uint32_t>* out = nullptr;
  bool overflow = false;

  void reset(size_t capacity) {
    nodes_.clear();
    nodes_.reserve(capacity);
    overflow = false;
  }

  Node* linkedList(const double* xy, uint32_t start, uint32_t end, bool clockwise) {
    Node* last = nullptr;
    if (clockwise == (signedArea(xy, start, end) > 0)) {
      for (uint32_t i = start; i < end; ++i) last = insertNode(i, xy[2 * i], xy[2 * i + 1], last);
    } else {
      for (uint32_t i = end; i-- > start;) last = insertNode(i, xy[2 * i], xy[2 * i + 1], last);
    }
    if (last && equals(last, last->next)) {
      removeNode(last);
      last = last->next;
    }
    return last;
  }

  Node* filterPoints(Node* start, Node* end = nullptr) {
    if (!start) return start;
    if (!end) end = start;
    Node* p = start;
    bool again;
    do {
      again = false;
      if (!p->steiner && (equals(p, p->next) || area(p->prev, p, p->next) == 0)) {
        removeNode(p);
        p = end = p->prev;
        if (p == p->next) break;
        again = true;
      } else {
        p = p->next;
      }
    } while (again || p != end);
    return end;
  }

  void earcutLinked(Node* ear, int pass) {
    if (!ear || overflow) return;
    Node* stop = ear;
    while (ear->prev != ear->next) {
      Node* prev = ear->prev;
      Node* next = ear->next;
      if (isEar(ear)) {
        out->push_back(prev->i);
        out->push_back(ear->i);
        out->push_back(next->i);
        removeNode(ear);
        ear = next->next;
        stop = next->next;
        continue;
      }
      ear = next;
      if (ear == stop) {
        if (pass == 0) {
          earcutLinked(filterPoints(ear), 1);
        } else if (pass == 1) {
          ear = cureLocalIntersections(filterPoints(ear));
          earcutLinked(ear, 2);
        } else if (pass == 2) {
          splitEarcut(ear);
        }
        break;
      }
    }
  }

  Node* eliminateHoles(const double* xy, const uint32_t* ringStart, size_t ringCount, Node* outerNode) {
    std::vector<Node*> queue;
    for (size_t r = 1; r < ringCount; ++r) {
      Node* list = linkedList(xy, ringStart[r], ringStart[r + 1], false);
      if (!list) continue;
      if (list == list->next) list->steiner = true;
      queue.push_back(getLeftmost(list));
    }
    std::sort(queue.begin(), queue.end(), [](const Node* a, const Node* b) {
      if (a->x != b->x) return a->x < b->x;
      return a->y < b->y;
    });
    for (Node* h : queue) {
      outerNode = eliminateHole(h, outerNode);
      if (overflow) return outerNode;
    }
    return outerNode;
  }

 private:
  std::vector<Node> nodes_;

  Node* newNode(uint32_t i, double x, double y) {
    if (nodes_.size() == nodes_.capacity()) {
      overflow = true;  // pointers must stay valid: never reallocate
      return nullptr;
    }
    nodes_.push_back(Node{i, x, y});
    return &nodes_.back();
  }

  Node* insertNode(uint32_t i, double x, double y, Node* last) {
    Node* p = newNode(i, x, y);
    if (!p) return last;
    if (!last) {
      p->prev = p;
      p->next = p;
    } else {
      p->next = last->next;
      p->prev = last;
      last->next->prev = p;
      last->next = p;
    }
    return p;
  }

  static void removeNode(Node* p) {
    p->next->prev = p->prev;
    p->prev->next = p->next;
  }

  static double signedArea(const double* xy, uint32_t start, uint32_t end) {
    double sum = 0;
    for (uint32_t i = start, j = end - 1; i < end; j = i++)
      sum += (xy[2 * j] - xy[2 * i]) * (xy[2 * i + 1] + xy[2 * j + 1]);
    return sum;
  }

  static double area(const Node* p, const Node* q, const Node* r) {
    return (q->y - p->y) * (r->x - q->x) - (q->x - p->x) * (r->y - q->y);
  }
  static bool equals(const Node* a, const Node* b) { return a->x == b->x && a->y == b->y; }

  static bool pointInTriangle(double ax, double ay, double bx, double by, double cx, double cy, double px, double py) {
    return (cx - px) * (ay - py) >= (ax - px) * (cy - py) && (ax - px) * (by - py) >= (bx - px) * (ay - py) &&
           (bx - px) * (cy - py) >= (cx - px) * (by - py);
  }

  bool isEar(Node* ear) const {
    const Node* a = ear->prev;
    const Node* b = ear;
    const Node* c = ear->next;
    if (area(a, b, c) >= 0) return false;
    for (const Node* p = ear->next->next; p != ear->prev; p = p->next) {
      if (pointInTriangle(a->x, a->y, b->x, b->y, c->x, c->y, p->x, p->y) && area(p->prev, p, p->next) >= 0)
        return false;
    }
    return true;
  }

  static int sign(double v) { return (v > 0) - (v < 0); }
  static bool onSegment(const Node* p, const Node* q, const Node* r) {
    return q->x <= std::max(p->x, r->x) && q->x >= std::min(p->x, r->x) && q->y <= std::max(p->y, r->y) &&
           q->y >= std::min(p->y, r->y);
  }
  static bool intersects(const Node* p1, const Node* q1, const Node* p2, const Node* q2) {
    int o1 = sign(area(p1, q1, p2));
    int o2 = sign(area(p1, q1, q2));
    int o3 = sign(area(p2, q2, p1));
    int o4 = sign(area(p2, q2, q1));
    if (o1 != o2 && o3 != o4) return true;
    if (o1 == 0 && onSegment(p1, p2, q1)) return true;
    if (o2 == 0 && onSegment(p1, q2, q1)) return true;
    if (o3 == 0 && onSegment(p2, p1, q2)) return true;
    if (o4 == 0 && onSegment(p2, q1, q2)) return true;
    return false;
  }
  static bool intersectsPolygon(const Node* a, const Node* b) {
    const Node* p = a;
    do {
      if (p->i != a->i && p->next->i != a->i && p->i != b->i && p->next->i != b->i && intersects(p, p->next, a, b))
        return true;
      p = p->next;
    } while (p != a);
    return false;
  }
  static bool locallyInside(const Node* a, const Node* b) {
    return area(a->prev, a, a->next) < 0 ? area(a, b, a->next) >= 0 && area(a, a->prev, b) >= 0
                                         : area(a, b, a->prev) < 0 || area(a, a->next, b) < 0;
  }
  static bool middleInside(const Node* a, const Node* b) {
    const Node* p = a;
    bool inside = false;
    double px = (a->x + b->x) / 2, py = (a->y + b->y) / 2;
    do {
      if (((p->y > py) != (p->next->y > py)) && p->next->y != p->y &&
          (px < (p->next->x - p->x) * (py - p->y) / (p->next->y - p->y) + p->x))
        inside = !inside;
      p = p->next;
    } while (p != a);
    return inside;
  }
  static bool isValidDiagonal(const Node* a, const Node* b) {
    return a->next->i != b->i && a->prev->i != b->i && !intersectsPolygon(a, b) &&
           ((locallyInside(a, b) && locallyInside(b, a) && middleInside(a, b) &&
             (area(a->prev, a, b->prev) != 0 || area(a, b->prev, b) != 0)) ||
            (equals(a, b) && area(a->prev, a, a->next) > 0 && area(b->prev, b, b->next) > 0));
  }

  Node* splitPolygon(Node* a, Node* b) {
    Node* a2 = newNode(a->i, a->x, a->y);
    Node* b2 = newNode(b->i, b->x, b->y);
    if (!a2 || !b2) return nullptr;
    Node* an = a->next;
    Node* bp = b->prev;
    a->next = b;
    b->prev = a;
    a2->next = an;
    an->prev = a2;
    b2->next = a2;
    a2->prev = b2;
    bp->next = b2;
    b2->prev = bp;
    return b2;
  }

  Node* cureLocalIntersections(Node* start) {
    Node* p = start;
    do {
      Node* a = p->prev;
      Node* b = p->next->next;
      if (!equals(a, b) && intersects(a, p, p->next, b) && locallyInside(a, b) && locallyInside(b, a)) {
        out->push_back(a->i);
        out->push_back(p->i);
        out->push_back(b->i);
        removeNode(p);
        removeNode(p->next);
        p = start = b;
      }
      p = p->next;
    } while (p != start);
    return filterPoints(p);
  }

  void splitEarcut(Node* start) {
    Node* a = start;
    do {
      Node* b = a->next->next;
      while (b != a->prev) {
        if (a->i != b->i && isValidDiagonal(a, b)) {
          Node* c = splitPolygon(a, b);
          if (!c) return;
          a = filterPoints(a, a->next);
          c = filterPoints(c, c->next);
          earcutLinked(a, 0);
          earcutLinked(c, 0);
          return;
        }
        b = b->next;
      }
      a = a->next;
    } while (a != start);
  }

  static Node* getLeftmost(Node* start) {
    Node* p = start;
    Node* leftmost = start;
    do {
      if (p->x < leftmost->x || (p->x == leftmost->x && p->y < leftmost->y)) leftmost = p;
      p = p->next;
    } while (p != start);
    return leftmost;
  }

  static bool sectorContainsSector(const Node* m, const Node* p) {
    return area(m->prev, m, p->prev) < 0 && area(p->next, m, m->next) < 0;
  }

  static Node* findHoleBridge(Node* hole, Node* outerNode) {
    Node* p = outerNode;
    double hx = hole->x, hy = hole->y;
    double qx = -std::numeric_limits<double>::infinity();
    Node* m = nullptr;
    do {
      if (hy <= p->y && hy >= p->next->y && p->next->y != p->y) {
        double x = p->x + (hy - p->y) * (p->next->x - p->x) / (p->next->y - p->y);
        if (x <= hx && x > qx) {
          qx = x;
          m = p->x < p->next->x ? p : p->next;
          if (x == hx) return m;
        }
      }
      p = p->next;
    } while (p != outerNode);
    if (!m) return nullptr;
    Node* stop = m;
    double mx = m->x, my = m->y;
    double tanMin = std::numeric_limits<double>::infinity();
    p = m;
    do {
      if (hx >= p->x && p->x >= mx && hx != p->x &&
          pointInTriangle(hy < my ? hx : qx, hy, mx, my, hy < my ? qx : hx, hy, p->x, p->y)) {
        double tan = std::abs(hy - p->y) / (hx - p->x);
        if (locallyInside(p, hole) &&
            (tan < tanMin || (tan == tanMin && (p->x > m->x || (p->x == m->x && sectorContainsSector(m, p)))))) {
          m = p;
          tanMin = tan;
        }
      }
      p = p->next;
    } while (p != stop);
    return m;
  }

  Node* eliminateHole(Node* hole, Node* outerNode) {
    Node* bridge = findHoleBridge(hole, outerNode);
    if (!bridge) return outerNode;
    Node* bridgeReverse = splitPolygon(bridge, hole);
    if (!bridgeReverse) return outerNode;
    filterPoints(bridgeReverse, bridgeReverse->next);
    return filterPoints(bridge, bridge->next);
  }
};

}  // namespace

bool triangulate2d(const double* xy, const uint32_t* ringStart, size_t ringCount, std::vector<uint32_t>& out) {
  if (ringCount == 0) return false;
  uint32_t base = ringStart[0];
  uint32_t n = ringStart[ringCount] - base;
  if (ringStart[1] - base < 3) return false;
  // Local copy with ring offsets relative to 0.
  thread_local Earcut ec;
  thread_local std::vector<uint32_t> rs;
  rs.assign(ringStart, ringStart + ringCount + 1);
  for (auto& v : rs) v -= base;
  ec.reset(3 * size_t(n) + 2 * ringCount + 16);
  size_t before = out.size();
  ec.out = &out;
  Node* outer = ec.linkedList(xy, 0, rs[1], true);
  if (!outer || outer->next == outer->prev) return false;
  if (ringCount > 1) outer = ec.eliminateHoles(xy, rs.data(), ringCount, outer);
  ec.earcutLinked(outer, 0);
  if (ec.overflow) {
    out.resize(before);
    return false;
  }
  return out.size() > before;
}

TriangulationStatus triangulatePolygon(const Vec3* pts, const uint32_t* ringStart, size_t ringCount,
                                       std::vector<uint32_t>& out, Vec3& normal) {
  normal = {0, 0, 0};
  if (ringCount == 0) return TriangulationStatus::TooFewPoints;
  uint32_t base = ringStart[0];
  uint32_t n = ringStart[ringCount] - base;
  uint32_t extN = ringStart[1] - base;
  if (extN < 3) return TriangulationStatus::TooFewPoints;

  // Centroid of the exterior ring as a local origin (precision), then Newell's normal.
  Vec3 c{0, 0, 0};
  for (uint32_t i = 0; i < extN; ++i)
    for (int k = 0; k < 3; ++k) c[k] += pts[i][k];
  for (int k = 0; k < 3; ++k) c[k] /= extN;
  Vec3 nrm{0, 0, 0};
  for (uint32_t i = 0, j = extN - 1; i < extN; j = i++) {
    Vec3 a{pts[j][0] - c[0], pts[j][1] - c[1], pts[j][2] - c[2]};
    Vec3 b{pts[i][0] - c[0], pts[i][1] - c[1], pts[i][2] - c[2]};
    nrm[0] += (a[1] - b[1]) * (a[2] + b[2]);
    nrm[1] += (a[2] - b[2]) * (a[0] + b[0]);
    nrm[2] += (a[0] - b[0]) * (a[1] + b[1]);
  }
  double len = std::sqrt(nrm[0] * nrm[0] + nrm[1] * nrm[1] + nrm[2] * nrm[2]);
  // Newell's vector has the length of twice the area: below 1e-10 m^2 there is nothing to draw.
  if (!(len > 2e-10)) return TriangulationStatus::ZeroArea;
  for (auto& v : nrm) v /= len;
  normal = nrm;

  // Orthonormal basis (u, v) of the plane, with u x v = normal so CCW in 2D is CCW about normal.
  Vec3 helper = std::abs(nrm[0]) < 0.9 ? Vec3{1, 0, 0} : Vec3{0, 1, 0};
  Vec3 u{helper[1] * nrm[2] - helper[2] * nrm[1], helper[2] * nrm[0] - helper[0] * nrm[2],
         helper[0] * nrm[1] - helper[1] * nrm[0]};
  double ul = std::sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
  for (auto& x : u) x /= ul;
  Vec3 v{nrm[1] * u[2] - nrm[2] * u[1], nrm[2] * u[0] - nrm[0] * u[2], nrm[0] * u[1] - nrm[1] * u[0]};

  thread_local std::vector<double> xy;
  xy.resize(2 * size_t(n));
  for (uint32_t i = 0; i < n; ++i) {
    double d0 = pts[i][0] - c[0], d1 = pts[i][1] - c[1], d2 = pts[i][2] - c[2];
    xy[2 * i] = d0 * u[0] + d1 * u[1] + d2 * u[2];
    xy[2 * i + 1] = d0 * v[0] + d1 * v[1] + d2 * v[2];
  }
  size_t before = out.size();
  if (!triangulate2d(xy.data(), ringStart, ringCount, out)) {
    out.resize(before);
    return TriangulationStatus::Failed;
  }
  // Orient every triangle counter-clockwise about the normal (in the 2D frame: positive area).
  for (size_t t = before; t + 2 < out.size(); t += 3) {
    const double* a = &xy[2 * out[t]];
    const double* b = &xy[2 * out[t + 1]];
    const double* d = &xy[2 * out[t + 2]];
    double cross = (b[0] - a[0]) * (d[1] - a[1]) - (b[1] - a[1]) * (d[0] - a[0]);
    if (cross < 0) std::swap(out[t + 1], out[t + 2]);
  }
  return TriangulationStatus::Ok;
}

}  // namespace twin
